namespace Strata.Contracts.Features;

/// <summary>A view applied to one row: the feature names and their values, in the view's order.</summary>
public sealed record ComputedFeatures(string View, string ViewVersion, IReadOnlyList<string> Names, double[] Values);
