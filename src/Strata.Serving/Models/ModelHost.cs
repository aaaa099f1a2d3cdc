using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Contracts.Registry;
using Strata.Contracts.Serving;

namespace Strata.Serving.Models;

/// <summary>Holds the model versions serving answers with: for every served model (<see cref="ServingOptions.ServedModels"/>)
/// the version each served alias points at, and up to <see cref="ServingOptions.MaxPinnedVersions"/> versions asked for
/// by number. A new version is loaded and warmed beside the current one and then swapped in with one reference write: a
/// request sees the old model or the new, never a half-loaded one. A version already loaded under another alias (a
/// challenger promoted to champion) is reused, not loaded again, and the version an alias moves away from stays loaded
/// among the pinned versions, so rolling back is instant.</summary>
public sealed partial class ModelHost(
    IRegistryClient registry, IFeaturesClient features, IOptions<ServingOptions> options, TimeProvider time, ILogger<ModelHost> logger) : IDisposable
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Model, string Alias), LoadFailure> _failures = new();

    /// <summary>The longest wait between two attempts to load a version that failed to load.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(5);

    /// <summary>Served aliases whose version could not be loaded, and why.</summary>
    public IReadOnlyList<LoadFailure> LoadFailures() => [.. _failures.Values.OrderBy(f => f.Model, StringComparer.Ordinal).ThenBy(f => f.Alias, StringComparer.Ordinal)];

    /// <summary>Why the version an alias of a model points at is not loaded, or null.</summary>
    public LoadFailure? FailureOf(string model, string alias) => _failures.GetValueOrDefault((model, alias));
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Served> _models =
        new(options.Value.ServedModels.Select(m => KeyValuePair.Create(m, new Served())), StringComparer.Ordinal);

    public ServingOptions Options => options.Value;

    /// <summary>The served models' names: the configured ones (the default first), then those served since asked for.</summary>
    public IReadOnlyList<string> Names =>
        [.. Options.ServedModels.Concat(_models.Keys.Except(Options.ServedModels, StringComparer.Ordinal).Order(StringComparer.Ordinal))];

    /// <summary>Whether a model is served, or would be when asked for (<see cref="ServingOptions.ServeEveryModel"/>).</summary>
    public bool IsServed(string model) => _models.ContainsKey(model) || (Options.ServeEveryModel && AliasName.IsModelName(model));

    /// <summary>Serves <paramref name="model"/> from now on when every registered model is served and the registry has
    /// it (its served aliases loaded now); true when it is served.</summary>
    public async Task<bool> EnsureServedAsync(string model, CancellationToken cancellationToken)
    {
        if (_models.ContainsKey(model))
        {
            return true;
        }
        if (!IsServed(model))
        {
            return false;
        }
        try
        {
            if ((await registry.ListVersionsAsync(model, cancellationToken)).Count == 0)
            {
                return false;
            }
        }
        catch (ResourceNotFoundException)
        {
            return false; // no such registered model
        }
        _models.TryAdd(model, new Served());
        try
        {
            await RefreshAsync(model, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or ResourceNotFoundException or DependencyUnavailableException)
        {
            LogRefreshFailed(logger, model, e.Message); // served, with nothing loaded: requests say so; the refresher retries
        }
        return true;
    }

    /// <summary>The version the default model's default alias points at (what <c>/predict</c> answers with).</summary>
    public ServableModel? Current => Get(Options.Model, Options.Alias);

    /// <summary>The loaded version an alias of a served model points at, or null.</summary>
    public ServableModel? Get(string model, string alias) =>
        _models.TryGetValue(model, out var served) && served.Aliases.TryGetValue(alias, out var loaded) ? loaded : null;

    /// <summary>The aliases of a served model with the version each is answered by.</summary>
    public IReadOnlyDictionary<string, ServableModel> AliasesOf(string model) =>
        _models.TryGetValue(model, out var served) ? served.Aliases : ImmutableDictionary<string, ServableModel>.Empty;

    /// <summary>Every version of a model loaded now (by an alias or by number), by version.</summary>
    public IReadOnlyList<ServableModel> Loaded(string model)
    {
        if (!_models.TryGetValue(model, out var served))
        {
            return [];
        }
        var all = served.Aliases.Values.Concat(served.Pinned).Concat(served.Policy?.Resolved.Values ?? []);
        return [.. all.DistinctBy(m => m.Version.Version).OrderBy(m => m.Version.Version)];
    }

    /// <summary>A version by number: already loaded, or loaded now (warm, then kept among the pinned versions); null when
    /// the registry has no such version or no versions by number are kept.</summary>
    public async Task<ServableModel?> GetVersionAsync(string model, int version, CancellationToken cancellationToken)
    {
        if (!_models.TryGetValue(model, out var served))
        {
            return null;
        }
        if (Find(served, version) is { } loaded)
        {
            served.Touch(loaded);
            return loaded;
        }
        if (Options.MaxPinnedVersions == 0)
        {
            return null;
        }
        var target = await registry.GetVersionAsync(model, version, cancellationToken);
        if (target is null)
        {
            return null;
        }
        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (Find(served, version) is { } raced)
            {
                return raced;
            }
            var pinned = await LoadAsync(target, cancellationToken);
            served.Pin(pinned, Options.MaxPinnedVersions);
            LogPinned(logger, model, version);
            return pinned;
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Re-reads every served alias of every served model and swaps those that moved. Returns true when a new
    /// version went live. A failed load keeps the alias on its current version (the first failure is rethrown after
    /// every alias was tried).</summary>
    public Task<bool> RefreshAsync(CancellationToken cancellationToken) => EachAsync([.. _models.Keys], model => RefreshAsync(model, cancellationToken));

    /// <summary>Re-reads one model's served aliases, then its traffic policy.</summary>
    public Task<bool> RefreshAsync(string model, CancellationToken cancellationToken) =>
        _models.TryGetValue(model, out var served) || (IsServed(model) && (served = _models.GetOrAdd(model, _ => new Served())) is not null)
            ? EachAsync([.. Options.ServedAliases, PolicyKey], alias => alias == PolicyKey
                ? RefreshPolicyAsync(model, served, cancellationToken)
                : RefreshAliasAsync(model, served, alias, cancellationToken))
            : Task.FromResult(false);

    /// <summary>Where a traffic policy that could not be put in force is reported among the load failures (not an alias name).</summary>
    public const string PolicyKey = "(traffic)";

    /// <summary>The traffic policy in force for a model, with every version it names loaded; null when it has none.</summary>
    public Traffic.RoutedPolicy? PolicyOf(string model) => _models.TryGetValue(model, out var served) ? served.Policy : null;

    /// <summary>Puts the model's stored traffic policy in force once every version it names is loaded (aliases resolved
    /// now, so an alias move re-resolves it). Until then, and when a version cannot be loaded, the previous policy stays.</summary>
    private async Task<bool> RefreshPolicyAsync(string model, Served served, CancellationToken cancellationToken)
    {
        TrafficPolicyVersion? stored;
        try
        {
            stored = await registry.GetTrafficPolicyAsync(model, cancellationToken);
        }
        catch (ResourceNotFoundException)
        {
            stored = null; // the model is gone
        }
        var fallback = served.Aliases.GetValueOrDefault(Options.Alias);
        if (stored?.Policy is not { } policy || (fallback is null && policy.Split is not { Count: > 0 }))
        {
            _failures.TryRemove((model, PolicyKey), out _);
            if (served.Policy is null)
            {
                return false;
            }
            served.Policy = null;
            LogPolicy(logger, model, stored?.Version ?? 0, stored?.Policy is null ? "cleared" : "waiting for the default alias");
            return true;
        }
        var numbers = new Dictionary<TrafficTarget, int>();
        foreach (var target in policy.Targets())
        {
            numbers[target] = target.Version ?? served.Aliases.GetValueOrDefault(target.Alias!)?.Version.Version
                ?? (await registry.GetVersionByAliasAsync(model, target.Alias!, cancellationToken))?.Version
                ?? throw new ResourceNotFoundException("model alias", $"{model}@{target.Alias} (named by traffic policy v{stored.Version})");
        }
        if (served.Policy is { } current && current.Version.Version == stored.Version && ReferenceEquals(current.Fallback, fallback ?? current.Fallback)
            && numbers.All(n => current.Resolved.GetValueOrDefault(n.Key)?.Version.Version == n.Value))
        {
            _failures.TryRemove((model, PolicyKey), out _);
            return false;
        }
        if (Backoff(model, PolicyKey, stored.Version))
        {
            return false;
        }
        await _loading.WaitAsync(cancellationToken);
        try
        {
            var loaded = new Dictionary<TrafficTarget, ServableModel>();
            foreach (var (target, number) in numbers)
            {
                if (Find(served, number) is not { } found)
                {
                    var version = await registry.GetVersionAsync(model, number, cancellationToken)
                        ?? throw new ResourceNotFoundException("model version", $"{model}/{number} (named by traffic policy v{stored.Version})");
                    found = await LoadAsync(version, cancellationToken);
                }
                loaded[target] = found;
            }
            served.Policy = new Traffic.RoutedPolicy(model, stored, loaded, fallback ?? loaded[policy.Split![0].Target!]);
        }
        catch (Exception e) when (IsLoadFailure(e))
        {
            RecordFailure(model, PolicyKey, stored.Version, e.Message);
            throw;
        }
        finally
        {
            _loading.Release();
        }
        _failures.TryRemove((model, PolicyKey), out _);
        LogPolicy(logger, model, stored.Version, policy.ToString());
        return true;
    }

    /// <summary>Refreshes every item even when one fails; true when any swapped; the first failure is rethrown with its stack.</summary>
    private static async Task<bool> EachAsync(IEnumerable<string> items, Func<string, Task<bool>> refresh)
    {
        var swapped = false;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure = null;
        foreach (var item in items)
        {
            try
            {
                swapped |= await refresh(item);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failure ??= System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
        }
        failure?.Throw();
        return swapped;
    }

    private async Task<bool> RefreshAliasAsync(string model, Served served, string alias, CancellationToken cancellationToken)
    {
        var target = await registry.GetVersionByAliasAsync(model, alias, cancellationToken);
        if (target is null)
        {
            // The alias was deleted (or its version was): it answers no more requests.
            _failures.TryRemove((model, alias), out _);
            if (!served.Aliases.ContainsKey(alias))
            {
                return false;
            }
            await _loading.WaitAsync(cancellationToken);
            try
            {
                served.Aliases = served.Aliases.Remove(alias);
            }
            finally
            {
                _loading.Release();
            }
            LogAliasRemoved(logger, model, alias);
            return true;
        }
        if (served.Aliases.TryGetValue(alias, out var current) && current.Version.Version == target.Version)
        {
            _failures.TryRemove((model, alias), out _);
            return false;
        }
        if (Backoff(model, alias, target.Version))
        {
            return false;
        }
        await _loading.WaitAsync(cancellationToken);
        try
        {
            served.Aliases.TryGetValue(alias, out current);
            if (current?.Version.Version == target.Version)
            {
                return false;
            }
            ServableModel loaded;
            try
            {
                loaded = Find(served, target.Version) ?? await LoadAsync(target, cancellationToken);
            }
            catch (Exception e) when (IsLoadFailure(e))
            {
                RecordFailure(model, alias, target.Version, e.Message);
                throw;
            }
            _failures.TryRemove((model, alias), out _);
            served.Aliases = served.Aliases.SetItem(alias, loaded);
            // The version the alias left stays loaded among the pinned ones (while the LRU keeps it): moving the alias
            // back, a rollback, is then a reference swap rather than a load under traffic.
            if (current is not null && Options.MaxPinnedVersions > 0 && Find(served, current.Version.Version) is null)
            {
                served.Pin(current, Options.MaxPinnedVersions);
            }
            LogSwapped(logger, model, alias, target.Version, current?.Version.Version);
            return true;
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Whether a version that failed to load is still waiting for its next attempt: it is tried again after a
    /// delay that doubles per attempt (up to <see cref="MaxRetryDelay"/>), not on every refresh (a broken artifact costs
    /// one attempt, not one a second).</summary>
    private bool Backoff(string model, string key, int version) =>
        _failures.TryGetValue((model, key), out var failed) && failed.Version == version && time.GetUtcNow() < failed.NextAttempt;

    private void RecordFailure(string model, string key, int version, string reason)
    {
        var attempts = _failures.TryGetValue((model, key), out var failed) && failed.Version == version ? failed.Attempts + 1 : 1;
        var delay = TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, TimeSpan.FromSeconds(1).Ticks << Math.Min(attempts - 1, 20)));
        _failures[(model, key)] = new LoadFailure(model, key, version, reason, attempts, time.GetUtcNow() + delay);
    }

    /// <summary>What a version that cannot be loaded throws (as opposed to cancellation or a bug).</summary>
    private static bool IsLoadFailure(Exception e) => e is InvalidDataException or ResourceNotFoundException or DependencyUnavailableException
        or InputValidationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or FormatException or InvalidOperationException or ArgumentException;

    private static ServableModel? Find(Served served, int version) =>
        served.Aliases.Values.FirstOrDefault(m => m.Version.Version == version) ?? served.Pinned.FirstOrDefault(m => m.Version.Version == version)
            ?? served.Policy?.Resolved.Values.FirstOrDefault(m => m.Version.Version == version);

    /// <summary>Loads a version with the runtime its format names (off the request threads).</summary>
    private async Task<ServableModel> LoadAsync(ModelVersion target, CancellationToken cancellationToken)
    {
        var artifact = await registry.GetArtifactAsync(target.ArtifactSha256, cancellationToken);
        switch (target.Format)
        {
            case ModelFormats.MlNet:
                // A model trained on stored features describes them itself (the references it reads, by which keys).
                var view = FeatureSelection.FromParams(target.Params) is { } selection
                    ? selection.View(target.FeatureNames)
                    : target.FeatureView is null
                    ? throw new InvalidDataException($"model {target.Model} v{target.Version} records no feature view")
                    : await (target.FeatureViewVersion is { } viewVersion
                        ? features.GetViewVersionAsync(target.FeatureView, viewVersion, cancellationToken)
                        : features.GetViewAsync(target.FeatureView, cancellationToken))
                        ?? throw new ResourceNotFoundException("feature view", $"{target.FeatureView} (version {target.FeatureViewVersion})");
                return await Task.Run(() => MlNetModel.Load(target, artifact, view, time.GetUtcNow()), cancellationToken);
            case ModelFormats.Onnx:
                return await Task.Run(() => OnnxModel.Load(target, artifact, time.GetUtcNow(), options.Value.MaxOutputElements), cancellationToken);
            case ModelFormats.External:
                throw new InvalidDataException($"model {target.Model} v{target.Version} is not servable here: "
                    + target.Params.GetValueOrDefault(ModelFormats.UnservableReason, "it was registered without an artifact Strata runs"));
            default:
                throw new InvalidDataException($"model {target.Model} v{target.Version} has format '{target.Format}', which no runtime here loads");
        }
    }

    public void Dispose() => _loading.Dispose();

    /// <summary>One served model's loaded versions: by alias (an immutable map replaced whole) and pinned by number.</summary>
    private sealed class Served
    {
        private volatile ImmutableDictionary<string, ServableModel> _aliases = ImmutableDictionary<string, ServableModel>.Empty;
        private volatile ImmutableList<ServableModel> _pinned = [];
        private volatile Traffic.RoutedPolicy? _policy;
        private readonly Lock _gate = new();

        /// <summary>The traffic policy in force (its versions stay loaded while it is), replaced whole.</summary>
        public Traffic.RoutedPolicy? Policy { get => _policy; set => _policy = value; }

        public ImmutableDictionary<string, ServableModel> Aliases { get => _aliases; set => _aliases = value; }

        public ImmutableList<ServableModel> Pinned => _pinned;

        /// <summary>Adds a version by number, evicting the least recently used beyond <paramref name="max"/>.</summary>
        public void Pin(ServableModel model, int max)
        {
            lock (_gate)
            {
                var pinned = _pinned.Add(model);
                _pinned = pinned.Count > max ? pinned.RemoveRange(0, pinned.Count - max) : pinned;
            }
        }

        public void Touch(ServableModel model)
        {
            lock (_gate)
            {
                var i = _pinned.IndexOf(model);
                if (i >= 0 && i != _pinned.Count - 1)
                {
                    _pinned = _pinned.RemoveAt(i).Add(model);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {Model}@{Alias} = v{Version} (was v{Previous})")]
    private static partial void LogSwapped(ILogger logger, string model, string alias, int version, int? previous);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Serving {Model}: its aliases could not be loaded yet: {Reason}")]
    private static partial void LogRefreshFailed(ILogger logger, string model, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {Model}@{Alias} no more: the alias is gone")]
    private static partial void LogAliasRemoved(ILogger logger, string model, string alias);

    [LoggerMessage(Level = LogLevel.Information, Message = "Traffic policy v{Version} of {Model} in force: {Policy}")]
    private static partial void LogPolicy(ILogger logger, string model, int version, string policy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Model} v{Version} by number")]
    private static partial void LogPinned(ILogger logger, string model, int version);
}
