namespace Strata.Contracts.Data;

/// <summary>Numeric columns of a dataset version, column-major; every column has <see cref="Rows"/> values.</summary>
public sealed record ColumnFrame(string DatasetId, long Rows, IReadOnlyDictionary<string, double[]> Columns);
