using Strata.Contracts.Events;

namespace Strata.Events;

/// <summary>The current schema version of each platform topic's <c>data</c>. The schemas themselves are JSON Schema
/// files in the repository at <c>schemas/events/&lt;topic&gt;/v&lt;n&gt;.json</c>; a published version never changes
/// (a breaking change is a new version, and the envelope's <c>dataschema</c> names the one its data follows).</summary>
public static class EventSchemas
{
    public const string BaseUri = "https://strata.dev/schemas/events/";

    public static IReadOnlyDictionary<string, int> Versions { get; } = EventTopics.All.ToDictionary(t => t, _ => 1, StringComparer.Ordinal);

    public static Uri? UriOf(string topic) =>
        Versions.TryGetValue(topic, out var version) ? new Uri($"{BaseUri}{topic}/v{version}.json") : null;

    /// <summary>The repository path of a schema URI (<c>schemas/events/&lt;topic&gt;/v&lt;n&gt;.json</c>).</summary>
    public static string RelativePath(Uri schema) => "schemas/events/" + schema.AbsoluteUri[BaseUri.Length..];
}
