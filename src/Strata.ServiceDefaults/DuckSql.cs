using Strata.Contracts;

namespace Strata.ServiceDefaults;

/// <summary>Quoting for the identifiers and paths Strata puts into DuckDB SQL (both come from outside: CSV headers, data dirs).</summary>
public static class DuckSql
{
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>Maps a DuckDB column type onto Strata's logical types.</summary>
    public static LogicalType LogicalType(string duckType) => duckType.ToUpperInvariant() switch
    {
        "BIGINT" or "INTEGER" or "SMALLINT" or "TINYINT" or "HUGEINT" or "UBIGINT" or "UINTEGER" or "USMALLINT" or "UTINYINT" => Contracts.LogicalType.Int64,
        "DOUBLE" or "FLOAT" or "REAL" => Contracts.LogicalType.Float64,
        var t when t.StartsWith("DECIMAL", StringComparison.Ordinal) => Contracts.LogicalType.Float64,
        "BOOLEAN" => Contracts.LogicalType.Bool,
        "DATE" => Contracts.LogicalType.Date,
        var t when t.StartsWith("TIMESTAMP", StringComparison.Ordinal) => Contracts.LogicalType.Timestamp,
        _ => Contracts.LogicalType.String,
    };

    public static bool IsNumeric(LogicalType logicalType) => logicalType.IsNumeric();
}
