using Strata.Contracts;

namespace Strata.Contracts.Data;

/// <summary>One inferred column: its name, logical type (<c>int64</c>, <c>float64</c>, <c>string</c>, <c>bool</c>, <c>timestamp</c>, <c>date</c>) and the source engine's type.</summary>
public sealed record ColumnSchema(string Name, LogicalType Type, string SourceType);
