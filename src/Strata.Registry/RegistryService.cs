using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Registry;
using Strata.Registry.Artifacts;
using Strata.Registry.Storage;

namespace Strata.Registry;

/// <summary>The Registry module in process: validates, then stores metadata and artifacts; new versions
/// (<c>model.registered</c>) and alias moves (<c>model.alias_changed</c>) are announced through the outbox, written in the
/// same transaction as the change and published by the relay (nothing announced that did not happen, nothing lost). This is the
/// <see cref="IRegistryClient"/> other modules get when the registry runs in their process.</summary>
public sealed class RegistryService(IRegistryStore store, ArtifactStore artifacts, TimeProvider time, IEventEncoder events, IOutboxSignal outbox) : IRegistryClient
{
    public Task<ArtifactRef> PutArtifactAsync(Stream content, CancellationToken cancellationToken = default) =>
        artifacts.PutAsync(content, cancellationToken);

    public Task<byte[]> GetArtifactAsync(string sha256, CancellationToken cancellationToken = default) =>
        artifacts.ReadVerifiedAsync(sha256, cancellationToken);

    public async Task<ModelVersion> CreateVersionAsync(string model, NewModelVersion version, CancellationToken cancellationToken = default)
    {
        AliasName.ValidateModelName(model);
        if (version is null)
        {
            throw new InputValidationException("body", "a model version is required");
        }
        ArtifactStore.ValidateHash(version.ArtifactSha256, "artifact_sha256");
        if (!ModelFormats.All.Contains(version.Format))
        {
            throw new InputValidationException("format", $"'{version.Format}' is not a known format (known: {string.Join(", ", ModelFormats.All)})");
        }
        // An ML.NET model's inputs are its feature view's; an ONNX graph declares its own (feature names are optional).
        if (version.FeatureNames is null || (version.Format == ModelFormats.MlNet && version.FeatureNames.Count == 0) || version.FeatureNames.Any(string.IsNullOrWhiteSpace))
        {
            throw new InputValidationException("feature_names", "must list the model's input features, in order");
        }
        if (version.Format == ModelFormats.MlNet && string.IsNullOrEmpty(version.FeatureView))
        {
            throw new InputValidationException("feature_view", "an ML.NET model must name the feature view it was trained on");
        }
        if (version.Metrics is null || version.Metrics.Values.Any(v => !double.IsFinite(v)))
        {
            throw new InputValidationException("metrics", "must be an object of finite numbers");
        }
        if (version.Params is null)
        {
            throw new InputValidationException("params", "must be an object of strings");
        }
        if (version.RequestId is { } requestId && (requestId.Length is 0 or > 128 || requestId.Any(char.IsControl)))
        {
            throw new InputValidationException("request_id", "must be 1 to 128 characters, none of them control characters");
        }
        if (!artifacts.Exists(version.ArtifactSha256))
        {
            throw new InputValidationException("artifact_sha256", $"no artifact {version.ArtifactSha256} has been uploaded");
        }
        var size = (await artifacts.ReadVerifiedAsync(version.ArtifactSha256, cancellationToken)).LongLength;
        var created = await store.AddVersionAsync(model, version, size, time.GetUtcNow(), number => events.Encode(EventTopics.ModelRegistered,
            $"{model}/{number}", new ModelRegisteredEvent(model, number, version.ArtifactSha256, version.DatasetVersion, version.FeatureView,
                version.FeatureViewVersion, version.Metrics)), cancellationToken);
        outbox.Notify();
        return created;
    }

    public async Task<ModelVersion?> GetVersionAsync(string model, int version, CancellationToken cancellationToken = default)
    {
        AliasName.ValidateModelName(model);
        return await store.GetVersionAsync(model, version, cancellationToken);
    }

    public async Task<ModelVersion?> GetVersionByAliasAsync(string model, string alias, CancellationToken cancellationToken = default)
    {
        AliasName.ValidateModelName(model);
        AliasName.Validate(alias);
        return await store.GetVersionByAliasAsync(model, alias, cancellationToken);
    }

    public async Task<ModelVersion> SetAliasAsync(string model, string alias, int version, CancellationToken cancellationToken = default)
    {
        AliasName.ValidateModelName(model);
        AliasName.Validate(alias);
        if (!await store.ModelExistsAsync(model, cancellationToken))
        {
            throw new ResourceNotFoundException("model", model);
        }
        if (!await store.SetAliasAsync(model, alias, version, previous => events.Encode(EventTopics.ModelAliasChanged, $"{model}@{alias}",
                new ModelAliasChangedEvent(model, alias, version, previous)), cancellationToken))
        {
            throw new ResourceNotFoundException("model version", $"{model}/{version}");
        }
        outbox.Notify();
        return (await store.GetVersionAsync(model, version, cancellationToken))!;
    }

    public async Task DeleteAliasAsync(string model, string alias, CancellationToken cancellationToken = default)
    {
        AliasName.ValidateModelName(model);
        AliasName.Validate(alias);
        if (!await store.DeleteAliasAsync(model, alias, previous => events.Encode(EventTopics.ModelAliasChanged, $"{model}@{alias}",
                new ModelAliasChangedEvent(model, alias, null, previous)), cancellationToken))
        {
            throw new ResourceNotFoundException("model alias", $"{model}@{alias}");
        }
        outbox.Notify();
    }

    /// <summary>Deletes a version (or, with <paramref name="version"/> null, the model): aliases pointing at what goes
    /// are removed and announced (<c>model.alias_changed</c> with no version), so serving stops answering with it.</summary>
    public async Task DeleteAsync(string model, int? version, CancellationToken cancellationToken = default)
    {
        AliasName.ValidateModelName(model);
        if (!await store.DeleteAsync(model, version, (alias, previous) => events.Encode(EventTopics.ModelAliasChanged, $"{model}@{alias}",
                new ModelAliasChangedEvent(model, alias, null, previous)), cancellationToken))
        {
            throw version is null ? new ResourceNotFoundException("registered model", model) : new ResourceNotFoundException("model version", $"{model}/{version}");
        }
        outbox.Notify();
    }

    /// <summary>Renames a model (versions, tags, aliases move with it; serving drops the old name's aliases on the events).</summary>
    public async Task RenameAsync(string model, string newName, CancellationToken cancellationToken = default)
    {
        AliasName.ValidateModelName(model);
        AliasName.ValidateModelName(newName);
        if (!await store.RenameAsync(model, newName, (name, alias, version, previous) => events.Encode(EventTopics.ModelAliasChanged, $"{name}@{alias}",
                new ModelAliasChangedEvent(name, alias, version, previous)), cancellationToken))
        {
            throw new ResourceNotFoundException("registered model", model);
        }
        outbox.Notify();
    }

    public Task<IReadOnlyList<RegisteredModel>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        store.ListModelsAsync(cancellationToken);

    public async Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string model, CancellationToken cancellationToken = default)
    {
        AliasName.ValidateModelName(model);
        if (!await store.ModelExistsAsync(model, cancellationToken))
        {
            throw new ResourceNotFoundException("model", model);
        }
        return await store.ListVersionsAsync(model, cancellationToken);
    }

    public async Task<TrafficPolicyVersion?> GetTrafficPolicyAsync(string model, CancellationToken cancellationToken = default)
    {
        AliasName.ValidateModelName(model);
        var latest = await store.GetTrafficHistoryAsync(model, 1, cancellationToken);
        if (latest.Count == 0 && !await store.ModelExistsAsync(model, cancellationToken))
        {
            throw new ResourceNotFoundException("registered model", model);
        }
        return latest.Count == 0 ? null : latest[0];
    }

    public async Task<TrafficPolicyVersion> SetTrafficPolicyAsync(string model, TrafficPolicy? policy, CancellationToken cancellationToken = default)
    {
        AliasName.ValidateModelName(model);
        policy?.Validate();
        var stored = await store.SetTrafficPolicyAsync(model, policy, time.GetUtcNow(), number => events.Encode(EventTopics.ModelTrafficChanged, model,
            new ModelTrafficChangedEvent(model, number, policy)), cancellationToken) ?? throw new ResourceNotFoundException("registered model", model);
        outbox.Notify();
        return stored;
    }

    public async Task<IReadOnlyList<TrafficPolicyVersion>> GetTrafficHistoryAsync(string model, CancellationToken cancellationToken = default)
    {
        AliasName.ValidateModelName(model);
        if (!await store.ModelExistsAsync(model, cancellationToken))
        {
            throw new ResourceNotFoundException("registered model", model);
        }
        return await store.GetTrafficHistoryAsync(model, null, cancellationToken);
    }
}
