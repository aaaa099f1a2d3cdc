namespace Strata.Contracts.Data;

/// <summary>How many rows one cleaning rule removed (<c>missing_values</c> or the filter text).</summary>
public sealed record DropReport(string Rule, long Rows);
