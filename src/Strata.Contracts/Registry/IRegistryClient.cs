namespace Strata.Contracts.Registry;

/// <summary>The Registry module as other modules see it: content-addressed artifacts, model versions and aliases.</summary>
public interface IRegistryClient
{
    /// <summary>Stores an artifact under its sha256; storing the same bytes twice is a no-op.</summary>
    Task<ArtifactRef> PutArtifactAsync(Stream content, CancellationToken cancellationToken = default);

    /// <summary>Reads an artifact, verified against its hash; a corrupted artifact throws rather than being served.</summary>
    Task<byte[]> GetArtifactAsync(string sha256, CancellationToken cancellationToken = default);

    /// <summary>Registers a new version (creating the model on first use); versions number from 1.</summary>
    Task<ModelVersion> CreateVersionAsync(string model, NewModelVersion version, CancellationToken cancellationToken = default);

    Task<ModelVersion?> GetVersionAsync(string model, int version, CancellationToken cancellationToken = default);

    Task<ModelVersion?> GetVersionByAliasAsync(string model, string alias, CancellationToken cancellationToken = default);

    /// <summary>Points an alias (e.g. <c>champion</c>) at an existing version.</summary>
    Task<ModelVersion> SetAliasAsync(string model, string alias, int version, CancellationToken cancellationToken = default);

    /// <summary>Removes an alias (not found when it does not exist). What serves the alias keeps the version it has
    /// until the alias points somewhere again.</summary>
    Task DeleteAliasAsync(string model, string alias, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<RegisteredModel>> ListModelsAsync(CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>The model's traffic policy in force (its latest version), or null when it never had one.</summary>
    Task<TrafficPolicyVersion?> GetTrafficPolicyAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>Stores a new version of the model's traffic policy (null clears it) and announces it
    /// (<c>model.traffic_changed</c>); every version or alias it names must exist.</summary>
    Task<TrafficPolicyVersion> SetTrafficPolicyAsync(string model, TrafficPolicy? policy, CancellationToken cancellationToken = default);

    /// <summary>Every version of the model's traffic policy, newest first.</summary>
    Task<IReadOnlyList<TrafficPolicyVersion>> GetTrafficHistoryAsync(string model, CancellationToken cancellationToken = default);
}
