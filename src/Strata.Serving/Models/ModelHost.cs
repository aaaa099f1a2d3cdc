using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Contracts.Registry;

namespace Strata.Serving.Models;

/// <summary>Holds the model version serving answers with. A new version is loaded and warmed beside the current
/// one and then swapped in with one reference write: a request sees the old model or the new, never a half-loaded one.</summary>
public sealed partial class ModelHost(
    IRegistryClient registry, IFeaturesClient features, IOptions<ServingOptions> options, TimeProvider time, ILogger<ModelHost> logger) : IDisposable
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private volatile LoadedModel? _current;

    public LoadedModel? Current => _current;

    public ServingOptions Options => options.Value;

    /// <summary>Reads the alias and, if it points at a version other than the one loaded, loads and swaps.
    /// Returns true when a new version went live.</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        var target = await registry.GetVersionByAliasAsync(Options.Model, Options.Alias, cancellationToken);
        if (target is null || target.Version == _current?.Version.Version)
        {
            return false;
        }
        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (target.Version == _current?.Version.Version)
            {
                return false;
            }
            var view = target.FeatureView is null
                ? throw new InvalidDataException($"model {target.Model} v{target.Version} records no feature view")
                : await features.GetViewAsync(target.FeatureView, cancellationToken)
                    ?? throw new ResourceNotFoundException("feature view", target.FeatureView);
            var artifact = await registry.GetArtifactAsync(target.ArtifactSha256, cancellationToken);
            var loaded = await Task.Run(() => LoadedModel.Load(target, artifact, view, time.GetUtcNow()), cancellationToken);
            var previous = _current;
            _current = loaded;
            LogSwapped(logger, target.Model, Options.Alias, target.Version, previous?.Version.Version);
            return true;
        }
        finally
        {
            _loading.Release();
        }
    }

    public void Dispose() => _loading.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {Model}@{Alias} = v{Version} (was v{Previous})")]
    private static partial void LogSwapped(ILogger logger, string model, string alias, int version, int? previous);
}
