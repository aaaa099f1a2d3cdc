using System.Text.Json.Nodes;
using Strata.Contracts;
using Strata.Contracts.Features;
using Strata.Features.Store;
using Strata.Features.Views;

namespace Strata.Features.Definitions;

/// <summary>Writes definitions in the form <see cref="DefinitionReader"/> reads, canonically: every list sorted by name,
/// every type spelled out, defaults omitted. Reading the export back gives the same definitions (the round trip
/// <c>GET /api/features/definitions</c> then <c>apply</c> is a no-op), and two definitions are the same exactly when their
/// canonical forms are (what <c>plan</c> compares).</summary>
public static class DefinitionWriter
{
    public static JsonObject Write(FeatureDefinitionSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return new JsonObject
        {
            ["entities"] = List(set.Entities.OrderBy(e => e.Name, StringComparer.Ordinal).Select(Entity)),
            ["sources"] = List(set.Sources.OrderBy(s => s.Name, StringComparer.Ordinal).Select(Source)),
            ["feature_views"] = List(set.Views.Select(v => (v.Name, Node: View(v))).Concat(set.OnDemandViews.Select(v => (v.Name, Node: OnDemand(v))))
                .OrderBy(v => v.Name, StringComparer.Ordinal).Select(v => v.Node)),
            ["feature_services"] = List(set.Services.OrderBy(s => s.Name, StringComparer.Ordinal).Select(Service)),
        };
    }

    /// <summary>Each definition's canonical form by "kind 'name'" (views, whatever their kind, as <c>feature_view</c>).</summary>
    public static IReadOnlyDictionary<string, JsonObject> Objects(FeatureDefinitionSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var map = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var e in set.Entities)
        {
            map[FeatureDefinitionSet.Label("entity", e.Name)] = Entity(e);
        }
        foreach (var s in set.Sources)
        {
            map[FeatureDefinitionSet.Label("source", s.Name)] = Source(s);
        }
        foreach (var v in set.Views)
        {
            map[FeatureDefinitionSet.Label("feature_view", v.Name)] = View(v);
        }
        foreach (var v in set.OnDemandViews)
        {
            map[FeatureDefinitionSet.Label("feature_view", v.Name)] = OnDemand(v);
        }
        foreach (var s in set.Services)
        {
            map[FeatureDefinitionSet.Label("feature_service", s.Name)] = Service(s);
        }
        return map;
    }

    private static JsonObject Entity(Entity e) => Object(
        ("name", e.Name),
        ("description", e.Description),
        ("join_keys", List(e.JoinKeys.Select(Field))));

    private static JsonObject Source(PushSource s) => Object(
        ("name", s.Name),
        ("entity", s.Entity),
        ("description", s.Description),
        ("topic", s.Topic),
        ("dataset", s.Dataset),
        ("dataset_version", s.DatasetVersion),
        ("timestamp_column", s.Dataset is not null && s.TimestampColumn != "event_timestamp" ? s.TimestampColumn : null),
        ("columns", List(s.Columns.Select(Field))));

    private static JsonObject View(EntityFeatureView v) => Object(
        ("name", v.Name),
        ("kind", v.Kind),
        ("entity", v.Entity),
        ("source", v.Source),
        ("description", v.Description.Length == 0 ? null : v.Description),
        ("ttl", v.Ttl is { } ttl ? Durations.Format(ttl) : null),
        ("owner", v.Owner),
        ("tags", v.Tags.Count == 0 ? null : new JsonObject(v.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => KeyValuePair.Create(t.Key, (JsonNode?)t.Value)))),
        v is AggregateFeatureView a
            ? ("aggregations", List(a.Aggregations.Select(x => Object(("column", x.Column), ("function", WireNames.Of(x.Function)), ("window", Durations.Format(x.Window))))))
            : ("features", List(v.Features.Select(Field))));

    private static JsonObject OnDemand(OnDemandFeatureView v) => Object(
        ("name", v.Name),
        ("kind", FeatureViewKinds.OnDemand),
        ("description", v.Description.Length == 0 ? null : v.Description),
        ("sources", v.Sources.Count == 0 ? null : new JsonArray([.. v.Sources.Select(s => (JsonNode?)s)])),
        ("inputs", List(v.Inputs.Select(Field))),
        ("features", List(v.Features.Select(f => Object(("name", f.Name), ("expression", f.Expression.ToString()), ("description", f.Description))))));

    private static JsonObject Service(FeatureServiceDefinition s) => Object(
        ("name", s.Name),
        ("description", s.Description),
        ("features", new JsonArray([.. s.Features.Select(f => (JsonNode?)f)])));

    private static JsonObject Field(FeatureField f)
    {
        var node = Object(("name", f.Name), ("type", WireNames.Of(f.Type)), ("description", f.Description));
        if (f.ExclusiveMinimum is double min)
        {
            node["exclusive_minimum"] = min;
        }
        if (f.Nullable == true)
        {
            node["nullable"] = true;
        }
        return node;
    }

    private static JsonObject Object(params (string Key, JsonNode? Value)[] fields)
    {
        var node = new JsonObject();
        foreach (var (key, value) in fields)
        {
            if (value is not null)
            {
                node[key] = value;
            }
        }
        return node;
    }

    private static JsonArray List(IEnumerable<JsonNode> items) => new([.. items]);
}
