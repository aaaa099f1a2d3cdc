namespace Strata.Contracts.Features;

/// <summary>A typed field of a feature view; <see cref="ExclusiveMinimum"/>, when set, is a bound every value must exceed.</summary>
public sealed record FeatureField(string Name, string Type, string? Description = null, double? ExclusiveMinimum = null);
