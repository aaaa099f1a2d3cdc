using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Contracts.Registry;
using Strata.Features.Store;

namespace Strata.Features.Definitions;

/// <summary>Gives the feature repository in force: a repository itself, or <see cref="FeatureDefinitions"/> (the applied
/// definitions, which <c>apply</c> replaces while the process runs). Readers take <see cref="Current"/> once per
/// operation, so an operation sees one version throughout.</summary>
public interface IFeatureRepositorySource
{
    FeatureRepository Current { get; }
}

/// <summary>Definitions a fresh data directory starts with (the shipped examples), applied as version 1 when nothing
/// has been applied yet.</summary>
public sealed record InitialFeatureDefinitions(IReadOnlyList<DefinitionFile> Files, string Description);

/// <summary>The applied feature definitions (what <c>feast apply</c> and Feast's registry do): versioned, persisted under
/// the module's folder (<c>definitions/000001.json</c>, ...), planned and applied as a whole. A change that alters or
/// removes a view a registered model version reads is refused unless forced. Each apply is announced on
/// <c>features.definitions_applied</c>; other processes reading the same folder pick it up (<see cref="Reload"/>).</summary>
public sealed partial class FeatureDefinitions : IFeatureRepositorySource, IDisposable
{
    private readonly string _folder;
    private readonly IEventPublisher _events;
    private readonly IRegistryClient? _registry;
    private readonly TimeProvider _time;
    private readonly ILogger<FeatureDefinitions> _logger;
    private readonly SemaphoreSlim _apply = new(1, 1);
    private readonly Lock _history = new();
    private readonly Dictionary<long, FeatureRepository> _versions = [];
    private volatile FeatureRepository _current;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FeatureDefinitions(string folder, IEnumerable<InitialFeatureDefinitions> initial, IEventPublisher events, IRegistryClient? registry,
        TimeProvider time, ILogger<FeatureDefinitions> logger)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _folder = folder;
        _events = events;
        _registry = registry;
        _time = time;
        _logger = logger;
        Directory.CreateDirectory(folder);
        foreach (var stale in Directory.EnumerateFiles(folder, "*.tmp"))
        {
            File.Delete(stale); // a crash between write and rename
        }
        _current = LoadLatest() ?? ApplyInitial([.. initial]);
    }

    public FeatureRepository Current => _current;

    /// <summary>Completes when the definitions in force next change (an apply here, or a reload of another's).</summary>
    public Task NextChange() => Volatile.Read(ref _changed).Task;

    private void Swap(FeatureRepository repository)
    {
        _current = repository;
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public void Dispose() => _apply.Dispose();

    /// <summary>The newest applied version number (0: none).</summary>
    public long Version => _current.Version;

    /// <summary>The definitions of every applied version, newest first.</summary>
    public IReadOnlyList<DefinitionsVersionInfo> Versions() =>
        [.. VersionFiles().OrderByDescending(v => v.Version).Select(v => ReadRecord(v.Path)).Select(r => new DefinitionsVersionInfo(r.Version, r.AppliedAt, r.Description, r.Changes))];

    /// <summary>An applied version's repository (cached); null when there is none.</summary>
    public FeatureRepository? At(long version)
    {
        if (version == _current.Version)
        {
            return _current;
        }
        lock (_history)
        {
            if (_versions.TryGetValue(version, out var cached))
            {
                return cached;
            }
        }
        var path = PathOf(version);
        if (!File.Exists(path))
        {
            return null;
        }
        var repository = Load(ReadRecord(path));
        lock (_history)
        {
            _versions[version] = repository;
        }
        return repository;
    }

    /// <summary>A view as it was published at version <paramref name="viewVersion"/> (its hash) in any applied version,
    /// newest first: a model keeps the definitions it was trained with.</summary>
    public FeatureViewInfo? FindView(string name, string viewVersion)
    {
        if (_current.ViewInfo(name) is { } current && current.Version == viewVersion)
        {
            return current;
        }
        foreach (var (version, _) in VersionFiles().OrderByDescending(v => v.Version))
        {
            if (At(version)?.ViewInfo(name) is { } info && info.Version == viewVersion)
            {
                return info;
            }
        }
        return null;
    }

    /// <summary>What applying <paramref name="definitions"/> would change; invalid definitions throw
    /// <see cref="InvalidDefinitionsException"/>.</summary>
    public async Task<DefinitionsPlan> PlanAsync(FeatureDefinitionSet definitions, CancellationToken cancellationToken)
    {
        var current = _current;
        var next = Checked(definitions, current.Version + 1);
        var changes = await ChangesAsync(current, next, cancellationToken);
        return new DefinitionsPlan(current.Version, changes.Count == 0 ? current.Version : current.Version + 1, false, changes, Blocked(changes));
    }

    /// <summary>Applies <paramref name="definitions"/> as the next version, all or nothing: invalid definitions throw
    /// <see cref="InvalidDefinitionsException"/>, a breaking change a model depends on throws
    /// <see cref="ResourceConflictException"/> unless <paramref name="force"/>. Definitions equal to the current ones
    /// change nothing (no new version).</summary>
    public async Task<DefinitionsPlan> ApplyAsync(FeatureDefinitionSet definitions, bool force, string? description, CancellationToken cancellationToken)
    {
        await _apply.WaitAsync(cancellationToken);
        try
        {
            Reload();
            var current = _current;
            var next = Checked(definitions, current.Version + 1);
            var changes = await ChangesAsync(current, next, cancellationToken);
            if (changes.Count == 0)
            {
                return new DefinitionsPlan(current.Version, current.Version, false, changes);
            }
            var blocked = Blocked(changes);
            if (blocked is not null && !force)
            {
                throw new ResourceConflictException(
                    $"the change breaks registered models: {string.Join("; ", blocked)}. Publish it as a new view (a new name), or apply with force");
            }
            var record = new DefinitionsRecord(next.Version, _time.GetUtcNow(), description, changes.Count, DefinitionWriter.Write(definitions));
            Save(record);
            Swap(Load(record));
            LogApplied(_logger, next.Version, changes.Count);
            await _events.PublishAsync(EventTopics.FeatureDefinitionsApplied, "definitions", new DefinitionsAppliedEvent(next.Version, changes.Count, description), cancellationToken);
            return new DefinitionsPlan(current.Version, next.Version, true, changes, blocked);
        }
        finally
        {
            _apply.Release();
        }
    }

    /// <summary>Takes up a newer version another process applied to the same folder; true when it did.</summary>
    public bool Reload()
    {
        var latest = VersionFiles().Select(v => v.Version).DefaultIfEmpty(0).Max();
        if (latest <= _current.Version)
        {
            return false;
        }
        Swap(Load(ReadRecord(PathOf(latest))));
        return true;
    }

    /// <summary>The definitions in force, in the canonical form <c>apply</c> reads.</summary>
    public JsonObject Export() => DefinitionWriter.Write(_current.Definitions);

    private async Task<List<DefinitionChange>> ChangesAsync(FeatureRepository current, FeatureRepository next, CancellationToken cancellationToken)
    {
        var before = DefinitionWriter.Objects(current.Definitions);
        var after = DefinitionWriter.Objects(next.Definitions);
        var changes = new List<DefinitionChange>();
        foreach (var label in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
        {
            var (kind, name) = Split(label);
            var old = before.GetValueOrDefault(label);
            var @new = after.GetValueOrDefault(label);
            if (old is not null && @new is not null && JsonNode.DeepEquals(old, @new))
            {
                continue;
            }
            var change = old is null ? "added" : @new is null ? "removed" : "changed";
            if (kind != "feature_view")
            {
                changes.Add(new DefinitionChange(kind, name, change, Breaking: change == "removed" && kind == "feature_service"));
                continue;
            }
            var from = current.ViewInfo(name)?.Version;
            var to = next.ViewInfo(name)?.Version;
            var breaking = from is not null && from != to;
            var models = breaking ? await ModelsReadingAsync(name, from!, cancellationToken) : null;
            changes.Add(new DefinitionChange(kind, name, change, breaking, models, from, to));
        }
        return changes;
    }

    /// <summary>The definitions resolved, and refused when a stored or aggregate view would read rows stored under
    /// another layout: a view keeps its entity, source and stored columns for as long as its name exists in any applied
    /// version (stored rows are laid out by them). A new layout is a new view.</summary>
    private FeatureRepository Checked(FeatureDefinitionSet definitions, long version)
    {
        var next = new FeatureRepository(definitions, version);
        var errors = new List<DefinitionError>();
        var history = VersionFiles().Select(v => v.Version).Order().Select(At).OfType<FeatureRepository>().Append(_current).ToList();
        foreach (var view in next.Views)
        {
            foreach (var earlier in history)
            {
                if (earlier.FindView(view.Name) is { } before && Layout(before) != Layout(view))
                {
                    var label = FeatureDefinitionSet.Label("feature_view", view.Name);
                    errors.Add(new DefinitionError(definitions.Origins.GetValueOrDefault(label), label, view is AggregateFeatureView ? "aggregations" : "features",
                        $"changes how the view's rows are stored (version {earlier.Version}: {Layout(before)}; now: {Layout(view)}); stored rows keep their layout, so declare the new layout as a new view (a new name)"));
                    break;
                }
            }
        }
        return errors.Count > 0 ? throw new InvalidDefinitionsException(errors) : next;
    }

    private static string Layout(EntityFeatureView view) =>
        $"{view.Kind} of {view.Entity} from {view.Source} storing {string.Join(", ", view.StoredColumns.Select(c => $"{c.Name} {WireNames.Of(c.Type)}"))}";

    private static List<string>? Blocked(List<DefinitionChange> changes)
    {
        var blocked = changes.Where(c => c.Breaking && c.Models is { Count: > 0 })
            .Select(c => $"feature view '{c.Name}' ({c.Change}) is read by {string.Join(", ", c.Models!)}").ToList();
        return blocked.Count == 0 ? null : blocked;
    }

    /// <summary>Registered model versions trained on <paramref name="view"/> at version <paramref name="viewVersion"/>.</summary>
    private async Task<List<string>> ModelsReadingAsync(string view, string viewVersion, CancellationToken cancellationToken)
    {
        if (_registry is null)
        {
            return [];
        }
        try
        {
            var found = new List<string>();
            foreach (var model in await _registry.ListModelsAsync(cancellationToken))
            {
                foreach (var version in await _registry.ListVersionsAsync(model.Name, cancellationToken))
                {
                    if ((version.FeatureView == view && version.FeatureViewVersion == viewVersion)
                        || (SelectionOf(version)?.ViewVersions.TryGetValue(view, out var read) == true && read == viewVersion))
                    {
                        found.Add(string.Create(CultureInfo.InvariantCulture, $"{version.Model}/{version.Version}"));
                    }
                }
            }
            return found;
        }
        catch (Exception e) when (e is HttpRequestException or DependencyUnavailableException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new DependencyUnavailableException("registry", $"cannot tell which registered models read view '{view}': {e.Message}");
        }
    }

    /// <summary>The stored features a version was trained on (null for a view's model or an unreadable param).</summary>
    private static FeatureSelection? SelectionOf(ModelVersion version)
    {
        try
        {
            return FeatureSelection.FromParams(version.Params);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (string Kind, string Name) Split(string label)
    {
        var space = label.IndexOf(' ', StringComparison.Ordinal);
        return (label[..space], label[(space + 2)..^1]);
    }

    private FeatureRepository? LoadLatest()
    {
        var latest = VersionFiles().OrderByDescending(v => v.Version).FirstOrDefault();
        return latest.Path is null ? null : Load(ReadRecord(latest.Path));
    }

    private FeatureRepository ApplyInitial(IReadOnlyList<InitialFeatureDefinitions> initial)
    {
        if (initial.Count == 0)
        {
            return new FeatureRepository(FeatureDefinitionSet.Empty, 0);
        }
        var definitions = DefinitionReader.Read(initial.SelectMany(i => i.Files));
        var repository = new FeatureRepository(definitions, 1);
        var record = new DefinitionsRecord(1, _time.GetUtcNow(), string.Join("; ", initial.Select(i => i.Description)),
            DefinitionWriter.Objects(definitions).Count, DefinitionWriter.Write(definitions));
        Save(record);
        return Load(record);
    }

    private static FeatureRepository Load(DefinitionsRecord record) =>
        new(DefinitionReader.Read($"definitions version {record.Version}", record.Definitions), record.Version);

    private void Save(DefinitionsRecord record)
    {
        var path = PathOf(record.Version);
        if (File.Exists(path))
        {
            throw new ResourceConflictException($"definitions version {record.Version} was applied by another process; plan again");
        }
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(file, record, StrataJson.Options);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: false);
    }

    private static DefinitionsRecord ReadRecord(string path) =>
        JsonSerializer.Deserialize<DefinitionsRecord>(File.ReadAllBytes(path), StrataJson.Options)
            ?? throw new InvalidDataException($"{path} is empty");

    private string PathOf(long version) => Path.Combine(_folder, version.ToString("D6", CultureInfo.InvariantCulture) + ".json");

    private IEnumerable<(long Version, string Path)> VersionFiles() =>
        Directory.EnumerateFiles(_folder, "*.json")
            .Select(p => (Ok: long.TryParse(Path.GetFileNameWithoutExtension(p), NumberStyles.None, CultureInfo.InvariantCulture, out var v), Version: v, Path: p))
            .Where(v => v.Ok)
            .Select(v => (v.Version, v.Path));

    private sealed record DefinitionsRecord(long Version, DateTimeOffset AppliedAt, string? Description, int Changes, JsonObject Definitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Feature definitions version {Version} applied ({Changes} changes)")]
    private static partial void LogApplied(ILogger logger, long version, int changes);
}
