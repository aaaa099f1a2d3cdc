namespace Strata.Contracts.Registry;

/// <summary>A registered model version with its artifact, metrics, params, lineage and the aliases pointing at it.</summary>
public sealed record ModelVersion(
    string Model,
    int Version,
    DateTimeOffset CreatedAt,
    string ArtifactSha256,
    long ArtifactSize,
    string Format,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Params,
    string? DatasetVersion,
    string? FeatureView,
    string? FeatureViewVersion,
    IReadOnlyList<string> FeatureNames,
    IReadOnlyList<string> Aliases,
    string? Description,
    string? RunId = null)
{
    /// <summary>Free-form key/value tags of this version (MLflow's model version tags).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}
