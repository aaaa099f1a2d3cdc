namespace Strata.Contracts.Data;

/// <summary>Cleaning applied at ingestion: drop rows with any missing value, and drop rows failing any filter.</summary>
public sealed record CleaningRules(bool DropMissing, IReadOnlyList<RowFilter> Filters)
{
    public static CleaningRules None { get; } = new(false, []);
}
