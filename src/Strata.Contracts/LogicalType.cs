namespace Strata.Contracts;

/// <summary>A column's or feature's type as Strata reasons about it, whatever the file or engine called it (DuckDB's
/// BIGINT, DOUBLE, ...): on the wire <c>int64</c>, <c>float64</c>, <c>bool</c>, <c>string</c>, <c>date</c>,
/// <c>timestamp</c>.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The members are the type names of the wire (Feast's value types).")]
public enum LogicalType
{
    Int64,
    Float64,
    Bool,
    String,
    Date,
    Timestamp,
}

public static class LogicalTypes
{
    /// <summary>Whether values of the type are numbers (a trainer's input, a statistic's).</summary>
    public static bool IsNumeric(this LogicalType type) => type is LogicalType.Int64 or LogicalType.Float64;

    /// <summary>Whether a feature (or join key) may have the type: a number, a bool or a string.</summary>
    public static bool IsFeatureType(this LogicalType type) => type is LogicalType.Float64 or LogicalType.Int64 or LogicalType.String or LogicalType.Bool;
}
