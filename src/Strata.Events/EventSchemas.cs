using Strata.Contracts.Events;

namespace Strata.Events;

/// <summary>The current schema version of each platform topic's <c>data</c>. The schemas themselves are JSON Schema
/// files in the repository at <c>schemas/events/&lt;topic&gt;/v&lt;n&gt;.json</c>; a published version never changes
/// (a breaking change is a new version, and the envelope's <c>dataschema</c> names the one its data follows).</summary>
public static class EventSchemas
{
    public const string BaseUri = "https://strata.dev/schemas/events/";

    public static IReadOnlyDictionary<string, int> Versions { get; } = EventTopics.All.ToDictionary(t => t, t => t switch
    {
        EventTopics.TrainingRequested => 4, // v2: the trainer and the tracking experiment; v3: the task; v4: categorical features
        EventTopics.ModelAliasChanged => 2, // v2: version absent when the alias was deleted
        EventTopics.PredictionMade => 2, // v2: the row of a batch, the arm and policy version of a routed request
        EventTopics.PredictionRequested => 2, // v2: headers for the traffic policy's rules
        _ => 1,
    }, StringComparer.Ordinal);

    private static readonly Dictionary<string, string> Uris = Versions.ToDictionary(p => p.Key, p => $"{BaseUri}{p.Key}/v{p.Value}.json", StringComparer.Ordinal);

    public static Uri? UriOf(string topic) => SchemaOf(topic) is { } uri ? new Uri(uri) : null;

    /// <summary>The <c>dataschema</c> of a topic's events, or null for a topic without a published schema.</summary>
    public static string? SchemaOf(string topic) => Uris.GetValueOrDefault(topic);

    /// <summary>The repository path of a schema URI (<c>schemas/events/&lt;topic&gt;/v&lt;n&gt;.json</c>).</summary>
    public static string RelativePath(string schema) =>
        schema.StartsWith(BaseUri, StringComparison.Ordinal) ? "schemas/events/" + schema[BaseUri.Length..] : throw new ArgumentException($"{schema} is not a Strata event schema", nameof(schema));
}
