namespace Strata.Contracts.Features;

/// <summary>A feature view's definition as published: the request inputs it needs and the typed features it yields.</summary>
public sealed record FeatureViewInfo(
    string Name,
    string Version,
    string Description,
    IReadOnlyList<FeatureField> Inputs,
    IReadOnlyList<FeatureField> Features);
