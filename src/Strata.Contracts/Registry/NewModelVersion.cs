namespace Strata.Contracts.Registry;

/// <summary>What a trainer registers: the artifact, its evaluation and parameters, and its lineage (data and features).
/// <paramref name="RequestId"/> is an idempotency key: registering again with the same one (a training request handled
/// twice) returns the version the first registration created. <paramref name="RunId"/> is the tracking run that produced
/// the artifact (lineage).</summary>
public sealed record NewModelVersion(
    string ArtifactSha256,
    string Format,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Params,
    string? DatasetVersion,
    string? FeatureView,
    string? FeatureViewVersion,
    IReadOnlyList<string> FeatureNames,
    string? Description = null,
    string? RequestId = null,
    string? RunId = null);
