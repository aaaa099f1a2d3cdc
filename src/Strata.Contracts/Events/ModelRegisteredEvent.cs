namespace Strata.Contracts.Events;

/// <summary>Data of <c>model.registered</c>: a new version and its lineage.</summary>
public sealed record ModelRegisteredEvent(string Model, int Version, string ArtifactSha256, string? DatasetVersion,
    string? FeatureView, string? FeatureViewVersion, IReadOnlyDictionary<string, double> Metrics);
