namespace Strata.ServiceDefaults;

/// <summary>Quoting for the identifiers and paths Strata puts into DuckDB SQL (both come from outside: CSV headers, data dirs).</summary>
public static class DuckSql
{
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>Maps a DuckDB column type onto Strata's logical types.</summary>
    public static string LogicalType(string duckType) => duckType.ToUpperInvariant() switch
    {
        "BIGINT" or "INTEGER" or "SMALLINT" or "TINYINT" or "HUGEINT" or "UBIGINT" or "UINTEGER" or "USMALLINT" or "UTINYINT" => "int64",
        "DOUBLE" or "FLOAT" or "REAL" => "float64",
        var t when t.StartsWith("DECIMAL", StringComparison.Ordinal) => "float64",
        "BOOLEAN" => "bool",
        "DATE" => "date",
        var t when t.StartsWith("TIMESTAMP", StringComparison.Ordinal) => "timestamp",
        _ => "string",
    };

    public static bool IsNumeric(string logicalType) => logicalType is "int64" or "float64";
}
