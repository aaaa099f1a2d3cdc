namespace Strata.Contracts.Features;

/// <summary>A feature view's definition as published. For an on-demand view, <see cref="Inputs"/> are the values it
/// needs (from the request or from the views in <see cref="Sources"/>); for stored and aggregate views, the view
/// belongs to <see cref="Entity"/>, is fed by the push source <see cref="Source"/>, and a value older than
/// <see cref="TtlSeconds"/> (when set) is not served.</summary>
public sealed record FeatureViewInfo(
    string Name,
    string Version,
    string Description,
    IReadOnlyList<FeatureField> Inputs,
    IReadOnlyList<FeatureField> Features,
    string Kind = FeatureViewKinds.OnDemand,
    string? Entity = null,
    IReadOnlyList<FeatureField>? JoinKeys = null,
    string? Source = null,
    long? TtlSeconds = null,
    string? Owner = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    IReadOnlyList<string>? Sources = null,
    IReadOnlyList<AggregationInfo>? Aggregations = null);
