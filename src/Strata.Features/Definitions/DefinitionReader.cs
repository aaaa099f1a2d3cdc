using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Strata.Contracts;
using Strata.Contracts.Features;
using Strata.Features.Store;
using Strata.Features.Views;

namespace Strata.Features.Definitions;

/// <summary>Every definition of a feature repository, as read from its files (or built in code), with the file each
/// object came from.</summary>
public sealed record FeatureDefinitionSet(
    IReadOnlyList<Entity> Entities,
    IReadOnlyList<PushSource> Sources,
    IReadOnlyList<EntityFeatureView> Views,
    IReadOnlyList<OnDemandFeatureView> OnDemandViews,
    IReadOnlyList<FeatureServiceDefinition> Services)
{
    public static FeatureDefinitionSet Empty { get; } = new([], [], [], [], []);

    /// <summary>"kind 'name'" to the file that declared it.</summary>
    public IReadOnlyDictionary<string, string> Origins { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public static string Label(string kind, string name) => $"{kind} '{name}'";
}

/// <summary>Reads definitions documents (see <c>docs/features.md</c>): top-level lists <c>entities</c>, <c>sources</c>,
/// <c>feature_views</c> and <c>feature_services</c>, spread over any number of files. Every problem is collected as a
/// <see cref="DefinitionError"/> naming file, object and field; unknown fields are errors (a misspelt <c>tll</c> must not
/// pass silently).</summary>
public static partial class DefinitionReader
{
    public const int MaxNameLength = 128;

    /// <summary>A stored view's feature written as a bare name: typed from its source once every file is read.</summary>
    private const LogicalType Untyped = (LogicalType)(-1);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    private static readonly string[] TopLevel = ["entities", "sources", "feature_views", "feature_services"];

    /// <summary>Reads the files; throws <see cref="InvalidDefinitionsException"/> with every error found.</summary>
    public static FeatureDefinitionSet Read(IEnumerable<DefinitionFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var errors = new List<DefinitionError>();
        var parts = new Parts();
        foreach (var file in files)
        {
            foreach (var document in DefinitionFiles.Parse(file, errors))
            {
                ReadDocument(file.Name, document, parts, errors);
            }
        }
        if (errors.Count > 0)
        {
            throw new InvalidDefinitionsException(errors);
        }
        return parts.ToSet();
    }

    /// <summary>Reads one document already parsed (a JSON body).</summary>
    public static FeatureDefinitionSet Read(string name, JsonNode? document)
    {
        var errors = new List<DefinitionError>();
        var parts = new Parts();
        ReadDocument(name, document, parts, errors);
        return errors.Count > 0 ? throw new InvalidDefinitionsException(errors) : parts.ToSet();
    }

    private sealed class Parts
    {
        public List<Entity> Entities { get; } = [];
        public List<PushSource> Sources { get; } = [];
        public List<EntityFeatureView> Views { get; } = [];
        public List<OnDemandFeatureView> OnDemand { get; } = [];
        public List<FeatureServiceDefinition> Services { get; } = [];
        public Dictionary<string, string> Origins { get; } = new(StringComparer.Ordinal);

        /// <summary>The set, with what one file may leave to another filled in: a stored or aggregate view's entity
        /// (its source's) and the types of a stored view's features given by name (its source's columns').</summary>
        public FeatureDefinitionSet ToSet()
        {
            var sources = Sources.GroupBy(s => s.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var views = Views.Select(view =>
            {
                if (!sources.TryGetValue(view.Source, out var source))
                {
                    return view; // reported by the repository's validation
                }
                if (view.Entity.Length == 0)
                {
                    view = view with { Entity = source.Entity };
                }
                if (view is StoredFeatureView stored)
                {
                    var schema = stored.Schema.Count == 0 ? source.Columns
                        : [.. stored.Schema.Select(f => f.Type == Untyped
                            ? f with { Type = source.Columns.FirstOrDefault(c => c.Name == f.Name)?.Type ?? Untyped, Description = f.Description ?? source.Columns.FirstOrDefault(c => c.Name == f.Name)?.Description }
                            : f)];
                    view = stored with { Schema = schema };
                }
                return view;
            }).ToList();
            return new(Entities, Sources, views, OnDemand, Services) { Origins = Origins };
        }
    }

    private static void ReadDocument(string file, JsonNode? document, Parts parts, List<DefinitionError> errors)
    {
        if (document is null)
        {
            return; // an empty file or document
        }
        if (document is not JsonObject root)
        {
            errors.Add(new DefinitionError(file, null, null, $"must be a mapping with {string.Join(", ", TopLevel)}"));
            return;
        }
        foreach (var (key, _) in root)
        {
            if (!TopLevel.Contains(key))
            {
                errors.Add(new DefinitionError(file, null, key, $"is not a section of a definitions file (sections: {string.Join(", ", TopLevel)})"));
            }
        }
        foreach (var item in Items(file, root, "entities", "entity", errors))
        {
            Add(parts, "entity", ReadEntity(item), item, e => parts.Entities.Add(e));
        }
        foreach (var item in Items(file, root, "sources", "source", errors))
        {
            Add(parts, "source", ReadSource(item), item, s => parts.Sources.Add(s));
        }
        foreach (var item in Items(file, root, "feature_views", "feature_view", errors))
        {
            var kind = item.String("kind") ?? FeatureViewKinds.Stored;
            switch (kind)
            {
                case FeatureViewKinds.Stored or FeatureViewKinds.Aggregate:
                    Add(parts, "feature_view", ReadEntityView(item, kind), item, v => parts.Views.Add(v));
                    break;
                case FeatureViewKinds.OnDemand:
                    Add(parts, "feature_view", ReadOnDemand(item), item, v => parts.OnDemand.Add(v));
                    break;
                default:
                    item.Error("kind", $"is '{kind}'; a feature view is stored, aggregate or on_demand");
                    item.Finish();
                    break;
            }
        }
        foreach (var item in Items(file, root, "feature_services", "feature_service", errors))
        {
            Add(parts, "feature_service", ReadService(item), item, s => parts.Services.Add(s));
        }
    }

    private static void Add<T>(Parts parts, string kind, T? value, Item item, Action<T> add)
        where T : class
    {
        item.Finish();
        if (value is null || item.Failed)
        {
            return;
        }
        if (!parts.Origins.TryAdd(FeatureDefinitionSet.Label(kind, item.Name!), item.File))
        {
            item.Error("name", $"is declared twice (also in {parts.Origins[FeatureDefinitionSet.Label(kind, item.Name!)]})");
            return;
        }
        add(value);
    }

    private static IEnumerable<Item> Items(string file, JsonObject root, string section, string kind, List<DefinitionError> errors)
    {
        var node = root[section];
        if (node is null)
        {
            yield break;
        }
        if (node is not JsonArray array)
        {
            errors.Add(new DefinitionError(file, null, section, "must be a list"));
            yield break;
        }
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject obj)
            {
                errors.Add(new DefinitionError(file, $"{section}[{i}]", null, $"must be a mapping (a {kind})"));
                continue;
            }
            var name = obj["name"] is JsonValue v && v.TryGetValue<string>(out var n) ? n : null;
            var item = new Item(file, name is null ? $"{section}[{i}]" : FeatureDefinitionSet.Label(kind, name), obj, "", errors);
            item.Name = item.RequiredName("name");
            yield return item;
        }
    }

    private static Entity? ReadEntity(Item item)
    {
        var keys = item.Fields("join_keys", LogicalType.String, allowExtras: false);
        if (keys is { Count: 0 })
        {
            item.Error("join_keys", "needs at least one join key");
        }
        return item.Name is null || keys is null ? null : new Entity(item.Name, keys, item.String("description"));
    }

    private static PushSource? ReadSource(Item item)
    {
        var entity = item.RequiredName("entity");
        var columns = item.Fields("columns", LogicalType.Float64, allowExtras: false);
        var source = item.Name is null || entity is null || columns is null ? null : new PushSource(item.Name, entity, columns, item.String("description"))
        {
            Topic = item.String("topic"),
            Dataset = item.String("dataset"),
            DatasetVersion = item.String("dataset_version"),
        };
        var timestamp = item.String("timestamp_column");
        if (source is not null && timestamp is not null)
        {
            source = source with { TimestampColumn = timestamp };
        }
        if (source is { Dataset: null } && (source.DatasetVersion is not null || timestamp is not null))
        {
            item.Error(source.DatasetVersion is not null ? "dataset_version" : "timestamp_column", "only a dataset source (with 'dataset') has it");
        }
        if (source?.Dataset is { } dataset && !NamePattern().IsMatch(dataset))
        {
            item.Error("dataset", "must be a dataset name (letters, digits, underscores)");
        }
        return source;
    }

    private static EntityFeatureView? ReadEntityView(Item item, string kind)
    {
        var entity = item.String("entity");
        var source = item.RequiredName("source");
        var description = item.String("description") ?? string.Empty;
        var ttl = item.Duration("ttl");
        var owner = item.String("owner");
        var tags = item.Map("tags");
        if (item.Name is null || source is null)
        {
            return null;
        }
        EntityFeatureView? view;
        if (kind == FeatureViewKinds.Aggregate)
        {
            var aggregations = ReadAggregations(item);
            view = aggregations is null ? null : new AggregateFeatureView(item.Name, entity ?? string.Empty, source, aggregations, description);
        }
        else
        {
            var features = item.Has("features") ? item.Fields("features", null, allowExtras: false, allowNames: true) : [];
            view = features is null ? null : new StoredFeatureView(item.Name, entity ?? string.Empty, source, features, description);
        }
        return view is null ? null : view with { Ttl = ttl, Owner = owner, Tags = tags ?? new Dictionary<string, string>() };
    }

    private static List<Aggregation>? ReadAggregations(Item item)
    {
        var result = new List<Aggregation>();
        foreach (var a in item.Objects("aggregations", required: true))
        {
            var column = a.RequiredName("column");
            var functions = a.Has("functions") ? a.Strings("functions") : a.String("function") is { } f ? [f] : null;
            var windows = a.Has("windows") ? a.Strings("windows") : a.String("window") is { } w ? [w] : null;
            if (functions is null)
            {
                a.Error("function", "is required (count, sum, mean, min or max), or 'functions' as a list");
            }
            if (windows is null)
            {
                a.Error("window", "is required (a duration: 10m, 1h, 7d), or 'windows' as a list");
            }
            if (a.Has("function") && a.Has("functions"))
            {
                a.Error("functions", "give function or functions, not both");
            }
            if (a.Has("window") && a.Has("windows"))
            {
                a.Error("windows", "give window or windows, not both");
            }
            a.Finish();
            if (column is null || functions is null || windows is null)
            {
                continue;
            }
            foreach (var window in windows)
            {
                if (!Durations.TryParse(window, out var span))
                {
                    a.Error(a.Has("windows") ? "windows" : "window", $"'{window}' is not a duration (10m, 1h, 7d)");
                    continue;
                }
                foreach (var function in functions)
                {
                    if (WireNames.TryParse<AggregationFunction>(function, out var fn))
                    {
                        result.Add(new Aggregation(column, fn, span));
                    }
                    else
                    {
                        a.Error(a.Has("functions") ? "functions" : "function", $"'{function}' is not one of {string.Join(", ", WireNames.All<AggregationFunction>())}");
                    }
                }
            }
        }
        if (result.Count == 0 && !item.Failed)
        {
            item.Error("aggregations", "needs at least one aggregation");
        }
        return item.Failed ? null : result;
    }

    private static DeclaredOnDemandView? ReadOnDemand(Item item)
    {
        foreach (var field in new[] { "entity", "source", "ttl", "aggregations" })
        {
            if (item.Has(field))
            {
                item.Error(field, "an on_demand view has no " + field + " (its inputs come from the request or from the views in 'sources')");
            }
        }
        var inputs = item.Fields("inputs", LogicalType.Float64, allowExtras: true);
        var sources = item.Has("sources") ? item.Strings("sources") ?? [] : [];
        var description = item.String("description") ?? string.Empty;
        if (inputs is null || item.Name is null)
        {
            return null;
        }
        var types = new Dictionary<string, LogicalType>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            types.TryAdd(input.Name, input.Type);
        }
        var features = new List<FeatureDefinition>();
        var index = 0;
        foreach (var f in item.Objects("features", required: true))
        {
            var name = f.RequiredName("name");
            var text = f.String("expression");
            var featureDescription = f.String("description");
            if (f.Has("type") && f.String("type") is { } type && type != "float64")
            {
                f.Error("type", "an on-demand feature is float64");
            }
            if (text is null)
            {
                f.Error("expression", "is required: the feature's formula over the inputs, e.g. 'income / age'");
            }
            else if (name is not null)
            {
                try
                {
                    features.Add(new FeatureDefinition(name, FeatureExpressionParser.Parse(text, types), featureDescription));
                }
                catch (FeatureExpressionException e)
                {
                    f.Error("expression", $"'{text}' {e.Message}");
                }
            }
            f.Finish();
            index++;
        }
        if (index == 0 && !item.Failed)
        {
            item.Error("features", "needs at least one feature");
        }
        return item.Failed ? null : new DeclaredOnDemandView(item.Name, description, inputs, features, sources);
    }

    private static FeatureServiceDefinition? ReadService(Item item)
    {
        var features = item.Strings("features");
        if (features is { Count: 0 })
        {
            item.Error("features", "needs at least one 'view' or 'view:feature' reference");
        }
        else if (features is null && !item.Has("features"))
        {
            item.Error("features", "is required: 'view' or 'view:feature' references");
        }
        return item.Name is null || features is null ? null : new FeatureServiceDefinition(item.Name, features, item.String("description"));
    }

    /// <summary>One mapping being read: typed getters that record errors under this object's file, label and path, and
    /// remember which keys were read so <see cref="Finish"/> can report the others as unknown.</summary>
    private sealed class Item(string file, string label, JsonObject obj, string path, List<DefinitionError> errors)
    {
        private readonly HashSet<string> _read = new(StringComparer.Ordinal);
        private readonly int _errorsBefore = errors.Count;

        public string File { get; } = file;

        public string? Name { get; set; }

        public bool Failed => errors.Count > _errorsBefore;

        public bool Has(string field) => obj.ContainsKey(field);

        public void Error(string? field, string reason) =>
            errors.Add(new DefinitionError(File, label, field is null ? (path.Length == 0 ? null : path) : path + field, reason));

        public void Finish()
        {
            foreach (var (key, _) in obj)
            {
                if (!_read.Contains(key))
                {
                    Error(key, "is not a field of this object");
                }
            }
        }

        private JsonNode? Get(string field)
        {
            _read.Add(field);
            return obj[field];
        }

        public string? String(string field)
        {
            var node = Get(field);
            if (node is null)
            {
                return null;
            }
            if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
            {
                var text = value.GetValue<string>();
                if (text.Contains('\0', StringComparison.Ordinal))
                {
                    Error(field, "must not contain NUL");
                    return null;
                }
                return text;
            }
            if (node is JsonValue number && number.GetValueKind() is JsonValueKind.Number)
            {
                return number.ToJsonString(); // e.g. a dataset version or tag written unquoted
            }
            Error(field, $"must be a string, not {DefinitionFiles.Show(node)}");
            return null;
        }

        public string? RequiredName(string field)
        {
            var text = String(field);
            if (text is null)
            {
                if (!Failed || !obj.ContainsKey(field))
                {
                    Error(field, "is required");
                }
                return null;
            }
            if (text.Length > MaxNameLength || !NamePattern().IsMatch(text))
            {
                Error(field, $"'{Truncate(text)}' is not a name (letters, digits and underscores, not starting with a digit, at most {MaxNameLength})");
                return null;
            }
            return text;
        }

        public TimeSpan? Duration(string field)
        {
            var node = Get(field);
            if (node is null)
            {
                return null;
            }
            if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
                && long.TryParse(v.ToJsonString(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }
            if (node is JsonValue s && s.GetValueKind() == JsonValueKind.String && Durations.TryParse(s.GetValue<string>(), out var duration))
            {
                return duration;
            }
            Error(field, $"{DefinitionFiles.Show(node)} is not a duration (e.g. 30d, 12h, 1h30m, 45s, or seconds)");
            return null;
        }

        public double? Number(string field)
        {
            var node = Get(field);
            if (node is null)
            {
                return null;
            }
            // A YAML integer arrives as a long, a JSON number as an element: read every kind through its text.
            if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
                && double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
            {
                return d;
            }
            Error(field, $"must be a number, not {DefinitionFiles.Show(node)}");
            return null;
        }

        public bool? Bool(string field)
        {
            var node = Get(field);
            if (node is null)
            {
                return null;
            }
            if (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
            {
                return v.GetValue<bool>();
            }
            Error(field, $"must be true or false, not {DefinitionFiles.Show(node)}");
            return null;
        }

        public List<string>? Strings(string field)
        {
            var node = Get(field);
            if (node is null)
            {
                return null;
            }
            if (node is not JsonArray array)
            {
                Error(field, $"must be a list of strings, not {DefinitionFiles.Show(node)}");
                return null;
            }
            var result = new List<string>();
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } text && !text.Contains('\0', StringComparison.Ordinal))
                {
                    result.Add(text);
                }
                else
                {
                    Error(string.Create(CultureInfo.InvariantCulture, $"{field}[{i}]"), $"must be a non-empty string, not {DefinitionFiles.Show(array[i])}");
                }
            }
            return result;
        }

        public Dictionary<string, string>? Map(string field)
        {
            var node = Get(field);
            if (node is null)
            {
                return null;
            }
            if (node is not JsonObject map)
            {
                Error(field, $"must be a mapping of strings, not {DefinitionFiles.Show(node)}");
                return null;
            }
            var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in map)
            {
                if (value is JsonValue v && v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                {
                    result[key] = v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
                }
                else
                {
                    Error($"{field}.{key}", $"must be a string, not {DefinitionFiles.Show(value)}");
                }
            }
            return new Dictionary<string, string>(result, StringComparer.Ordinal);
        }

        public IEnumerable<Item> Objects(string field, bool required)
        {
            var node = Get(field);
            if (node is null)
            {
                if (required)
                {
                    Error(field, "is required");
                }
                yield break;
            }
            if (node is not JsonArray array)
            {
                Error(field, $"must be a list, not {DefinitionFiles.Show(node)}");
                yield break;
            }
            for (var i = 0; i < array.Count; i++)
            {
                var at = string.Create(CultureInfo.InvariantCulture, $"{path}{field}[{i}]");
                if (array[i] is JsonObject child)
                {
                    yield return new Item(File, label, child, at + ".", errors);
                }
                else
                {
                    errors.Add(new DefinitionError(File, label, at, $"must be a mapping, not {DefinitionFiles.Show(array[i])}"));
                }
            }
        }

        /// <summary>A list of typed fields: <c>{name, type, description}</c> (plus <c>exclusive_minimum</c> and
        /// <c>nullable</c> for on-demand inputs), or, where <paramref name="allowNames"/>, a bare name whose type comes
        /// from elsewhere (a stored view's source). <paramref name="defaultType"/> null: the type may be omitted.</summary>
        public List<FeatureField>? Fields(string field, LogicalType? defaultType, bool allowExtras, bool allowNames = false)
        {
            var node = Get(field);
            if (node is null)
            {
                Error(field, "is required");
                return null;
            }
            if (node is not JsonArray array)
            {
                Error(field, $"must be a list, not {DefinitionFiles.Show(node)}");
                return null;
            }
            var result = new List<FeatureField>();
            var failedBefore = errors.Count;
            for (var i = 0; i < array.Count; i++)
            {
                var at = string.Create(CultureInfo.InvariantCulture, $"{field}[{i}]");
                if (allowNames && array[i] is JsonValue v && v.GetValueKind() == JsonValueKind.String)
                {
                    var name = v.GetValue<string>();
                    if (!NamePattern().IsMatch(name) || name.Length > MaxNameLength)
                    {
                        Error(at, $"'{Truncate(name)}' is not a name");
                        continue;
                    }
                    result.Add(new FeatureField(name, Untyped));
                    continue;
                }
                if (array[i] is not JsonObject child)
                {
                    Error(at, $"must be a mapping with name and type, not {DefinitionFiles.Show(array[i])}");
                    continue;
                }
                var item = new Item(File, label, child, at + ".", errors);
                var fieldName = item.RequiredName("name");
                var typeName = item.String("type");
                var description = item.String("description");
                var minimum = allowExtras ? item.Number("exclusive_minimum") : null;
                var nullable = allowExtras ? item.Bool("nullable") : null;
                item.Finish();
                LogicalType type;
                if (typeName is null)
                {
                    if (defaultType is null)
                    {
                        type = Untyped;
                    }
                    else
                    {
                        type = defaultType.Value;
                    }
                }
                else if (!WireNames.TryParse(typeName, out type) || !type.IsFeatureType() && type != LogicalType.Timestamp)
                {
                    item.Error("type", $"'{Truncate(typeName)}' is not a type (int64, float64, bool, string{(allowExtras ? ", timestamp" : string.Empty)})");
                    continue;
                }
                else if (type == LogicalType.Timestamp && !allowExtras)
                {
                    item.Error("type", "timestamp is only an on-demand input's type (a source's event time is its event_timestamp)");
                    continue;
                }
                if (fieldName is not null)
                {
                    result.Add(new FeatureField(fieldName, type, description, minimum, Nullable: nullable == true ? true : null));
                }
            }
            var duplicate = result.GroupBy(f => f.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
            {
                Error(field, $"names '{duplicate.Key}' twice");
            }
            return errors.Count > failedBefore ? null : result;
        }

        private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";
    }
}
