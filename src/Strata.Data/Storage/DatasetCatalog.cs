using System.Collections.Concurrent;
using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Data;

namespace Strata.Data.Storage;

/// <summary>The dataset versions on disk: <c>datasets/&lt;id&gt;/data.parquet</c> plus <c>manifest.json</c>.
/// A version directory appears by atomic rename, complete or not at all.</summary>
public sealed class DatasetCatalog
{
    private readonly ConcurrentDictionary<string, DatasetVersion> _versions = new(StringComparer.Ordinal);

    public DatasetCatalog(string root)
    {
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
        return _versions.GetOrAdd(version.Id, version);
    }
}
