namespace Strata.Contracts.Data;

/// <summary>An immutable, content-addressed dataset version: what was kept, how it is typed, what was dropped and why.</summary>
public sealed record DatasetVersion(
    string Id,
    string Name,
    DateTimeOffset CreatedAt,
    long SourceRows,
    long Rows,
    IReadOnlyList<ColumnSchema> Schema,
    CleaningRules Rules,
    IReadOnlyList<DropReport> Dropped);
