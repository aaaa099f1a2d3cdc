using Strata.Contracts;

namespace Strata.Contracts.Features;

/// <summary>A typed field of a feature view. For an input, <see cref="ExclusiveMinimum"/> (when set) is a bound every
/// value must exceed and <see cref="Nullable"/> lets a missing value reach the formulas as null (otherwise the features
/// are null); for a feature, <see cref="Expression"/> is its formula over the inputs.</summary>
public sealed record FeatureField(
    string Name,
    LogicalType Type,
    string? Description = null,
    double? ExclusiveMinimum = null,
    FeatureExpression? Expression = null,
    bool? Nullable = null);
