namespace Strata.Contracts.Events;

/// <summary>Data of <c>data.ingested</c>: a new dataset version exists (its id, name, rows kept of the source's, columns).</summary>
public sealed record DataIngestedEvent(string DatasetId, string Name, long Rows, long SourceRows, IReadOnlyList<string> Columns, DateTimeOffset CreatedAt);
