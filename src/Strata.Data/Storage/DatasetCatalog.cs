using System.Collections.Concurrent;
using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Data;
using Strata.Contracts.Events;

namespace Strata.Data.Storage;

/// <summary>The dataset versions on disk: <c>datasets/&lt;id&gt;/data.parquet</c> plus <c>manifest.json</c>.
/// A version directory appears by atomic rename, complete or not at all, and with it its <c>data.ingested</c> event
/// (<c>outbox.json</c>, written into the staging directory before the rename): the catalog is the Data module's outbox,
/// so a version is announced if and only if it was published. The relay deletes the file once the broker has the event.</summary>
public sealed class DatasetCatalog : IOutboxStore
{
    public const string OutboxFile = "outbox.json";
    private readonly ConcurrentDictionary<string, DatasetVersion> _versions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _outbox = new(StringComparer.Ordinal);
    private readonly IEventEncoder? _encoder;

    public DatasetCatalog(string root, IEventEncoder? encoder = null)
    {
        _encoder = encoder;
        Root = Path.Combine(root, "datasets");
        Directory.CreateDirectory(Root);
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            var manifest = Path.Combine(dir, ManifestFile);
            if (Path.GetFileName(dir).StartsWith('.'))
            {
                // A staging folder left by a crash mid-ingestion: never published, so never visible; remove it.
                Directory.Delete(dir, recursive: true);
                continue;
            }
            try
            {
                var version = File.Exists(manifest) ? JsonSerializer.Deserialize<DatasetVersion>(File.ReadAllText(manifest), StrataJson.Options) : null;
                if (version is not null && version.Id == Path.GetFileName(dir) && File.Exists(Path.Combine(dir, DataFile)))
                {
                    _versions[version.Id] = version;
                    if (File.Exists(Path.Combine(dir, OutboxFile)))
                    {
                        _outbox[version.Id] = Path.Combine(dir, OutboxFile);
                    }
                }
            }
            catch (JsonException)
            {
                // An unreadable manifest is not a dataset version; it stays on disk for inspection and is not served.
            }
        }
    }

    public const string DataFile = "data.parquet";
    public const string ManifestFile = "manifest.json";

    public string Root { get; }

    public DatasetVersion? Get(string id) => _versions.GetValueOrDefault(id);

    public IReadOnlyList<DatasetVersion> List(string? name) =>
        [.. _versions.Values.Where(v => name is null || v.Name == name).OrderByDescending(v => v.CreatedAt).ThenBy(v => v.Id, StringComparer.Ordinal)];

    public string DataPath(string id) => Path.Combine(Root, id, DataFile);

    /// <summary>A fresh staging directory for a version being written.</summary>
    public string NewStagingDirectory()
    {
        var dir = Path.Combine(Root, $".staging-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Writes the manifest into the staging directory and publishes it as version <c>id</c>;
    /// if another writer published the same id first, theirs stands (same content, same id).</summary>
    public DatasetVersion Publish(string stagingDirectory, DatasetVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        File.WriteAllText(Path.Combine(stagingDirectory, ManifestFile), JsonSerializer.Serialize(version, StrataJson.Options));
        if (_encoder is not null)
        {
            var announce = _encoder.Encode(EventTopics.DataIngested, $"{version.Name}/{version.Id}", new DataIngestedEvent(
                version.Id, version.Name, version.Rows, version.SourceRows, [.. version.Schema.Select(c => c.Name)], version.CreatedAt));
            using var envelope = JsonDocument.Parse(announce.Envelope);
            File.WriteAllText(Path.Combine(stagingDirectory, OutboxFile), JsonSerializer.Serialize(
                new OutboxEntry(announce.Id, announce.Topic, announce.Key, envelope.RootElement), StrataJson.Options));
        }
        var final = Path.Combine(Root, version.Id);
        try
        {
            Directory.Move(stagingDirectory, final);
        }
        catch (IOException) when (Directory.Exists(final))
        {
            Directory.Delete(stagingDirectory, recursive: true);
            return _versions.GetOrAdd(version.Id, version);
        }
        if (_encoder is not null)
        {
            _outbox[version.Id] = Path.Combine(final, OutboxFile);
        }
        return _versions.GetOrAdd(version.Id, version);
    }

    public Task<IReadOnlyList<EncodedEvent>> PendingOutboxAsync(int max, CancellationToken cancellationToken)
    {
        var pending = new List<(DateTimeOffset Created, EncodedEvent Event)>();
        foreach (var (id, path) in _outbox)
        {
            try
            {
                var entry = JsonSerializer.Deserialize<OutboxEntry>(File.ReadAllText(path), StrataJson.Options)!;
                pending.Add((_versions[id].CreatedAt, new EncodedEvent(entry.Id, entry.Topic, entry.Key, JsonSerializer.SerializeToUtf8Bytes(entry.Envelope))));
            }
            catch (FileNotFoundException)
            {
                _outbox.TryRemove(id, out _);
            }
        }
        return Task.FromResult<IReadOnlyList<EncodedEvent>>([.. pending.OrderBy(p => p.Created).Take(max).Select(p => p.Event)]);
    }

    public Task RemoveOutboxAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var done = ids.ToHashSet(StringComparer.Ordinal);
        foreach (var (id, path) in _outbox)
        {
            var entry = JsonSerializer.Deserialize<OutboxEntry>(File.ReadAllText(path), StrataJson.Options)!;
            if (done.Contains(entry.Id))
            {
                File.Delete(path);
                _outbox.TryRemove(id, out _);
            }
        }
        return Task.CompletedTask;
    }

    private sealed record OutboxEntry(string Id, string Topic, string Key, JsonElement Envelope);
}
