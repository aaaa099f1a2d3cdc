using System.Collections.Frozen;
using System.Text.Json;
using Json.Schema;

namespace Strata.Events.Ingress;

/// <summary>The JSON Schemas of the platform topics' <c>data</c> (<c>schemas/events/&lt;topic&gt;/v&lt;n&gt;.json</c>, embedded
/// in this assembly), loaded into a registry of their own, to check what is published from outside.</summary>
public static class TopicSchemas
{
    private static readonly Lazy<FrozenDictionary<string, JsonSchema>> Loaded = new(Load);

    /// <summary>The schema <paramref name="uri"/> names (a <c>dataschema</c> of <see cref="EventSchemas"/>), or null.</summary>
    public static JsonSchema? Get(string uri) => Loaded.Value.GetValueOrDefault(uri);

    /// <summary>Null when <paramref name="data"/> follows <paramref name="schema"/>; else where and why not (the first few
    /// errors).</summary>
    public static string? Check(JsonSchema schema, JsonElement data)
    {
        var result = schema.Evaluate(data, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid)
        {
            return null;
        }
        var errors = (result.Details ?? []).Where(d => d.Errors is not null)
            .SelectMany(d => d.Errors!.Select(e => $"{(d.InstanceLocation.ToString() is { Length: > 0 } at ? at : "/")}: {e.Value}"))
            .Distinct().Take(5).ToList();
        return errors.Count > 0 ? string.Join("; ", errors) : "does not follow the schema";
    }

    private static FrozenDictionary<string, JsonSchema> Load()
    {
        var assembly = typeof(TopicSchemas).Assembly;
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        var schemas = new Dictionary<string, JsonSchema>(StringComparer.Ordinal);
        foreach (var (topic, _) in EventSchemas.Versions)
        {
            var uri = EventSchemas.SchemaOf(topic)!;
            using var stream = assembly.GetManifestResourceStream(EventSchemas.RelativePath(uri))
                ?? throw new InvalidOperationException($"the schema {uri} is not embedded in {assembly.GetName().Name}");
            using var reader = new StreamReader(stream);
            schemas[uri] = JsonSchema.FromText(reader.ReadToEnd(), options);
        }
        return schemas.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
