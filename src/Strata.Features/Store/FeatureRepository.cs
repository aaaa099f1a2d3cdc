using System.Security.Cryptography;
using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Features.Definitions;
using Strata.Features.Views;

namespace Strata.Features.Store;

/// <summary>Every definition of the feature store (entities, push sources, views, feature services), checked for
/// consistency when the module starts, and the resolution of feature references into a <see cref="FeaturePlan"/>.</summary>
public sealed class FeatureRepository : IFeatureRepositorySource
{
    FeatureRepository IFeatureRepositorySource.Current => this;

    private readonly Dictionary<string, Entity> _entities;
    private readonly Dictionary<string, PushSource> _sources;
    private readonly Dictionary<string, EntityFeatureView> _views;
    private readonly Dictionary<string, OnDemandFeatureView> _onDemand;
    private readonly Dictionary<string, FeatureServiceDefinition> _services;
    private readonly Dictionary<string, FeatureViewInfo> _infos;

    public FeatureRepository(
        IEnumerable<Entity> entities,
        IEnumerable<PushSource> sources,
        IEnumerable<EntityFeatureView> views,
        IEnumerable<OnDemandFeatureView> onDemand,
        IEnumerable<FeatureServiceDefinition> services)
        : this(new FeatureDefinitionSet([.. entities], [.. sources], [.. views], [.. onDemand], [.. services]), 0)
    {
    }

    /// <summary>Checks the definitions (every error collected, each naming its file, definition and field) and
    /// resolves them; throws <see cref="InvalidDefinitionsException"/> when any is wrong.</summary>
    public FeatureRepository(FeatureDefinitionSet definitions, long version)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        Definitions = definitions;
        Version = version;
        var errors = new List<DefinitionError>();
        _entities = Unique(definitions.Entities, e => e.Name, "entity", definitions, errors);
        _sources = Unique(definitions.Sources, s => s.Name, "source", definitions, errors);
        _views = Unique(definitions.Views, v => v.Name, "feature_view", definitions, errors);
        _onDemand = Unique(definitions.OnDemandViews, v => v.Name, "feature_view", definitions, errors);
        _services = Unique(definitions.Services, s => s.Name, "feature_service", definitions, errors);
        Validate(new Reporter(definitions, errors));
        if (errors.Count > 0)
        {
            throw new InvalidDefinitionsException(errors);
        }
        // Definitions never change within one repository: publish each view once.
        _infos = _views.Values.ToDictionary(v => v.Name, Describe, StringComparer.Ordinal);
    }

    /// <summary>The definitions this repository resolves, as declared.</summary>
    public FeatureDefinitionSet Definitions { get; }

    /// <summary>The applied definitions' version (1, 2, ...; 0 for definitions built in code and never applied).</summary>
    public long Version { get; }

    public IReadOnlyCollection<Entity> Entities => _entities.Values;

    public IReadOnlyCollection<PushSource> Sources => _sources.Values;

    public IReadOnlyCollection<EntityFeatureView> Views => _views.Values;

    public IReadOnlyCollection<OnDemandFeatureView> OnDemandViews => _onDemand.Values;

    public IReadOnlyCollection<FeatureServiceDefinition> Services => _services.Values;

    public Entity Entity(string name) => _entities[name];

    public EntityFeatureView? FindView(string name) => _views.GetValueOrDefault(name);

    public OnDemandFeatureView? FindOnDemand(string name) => _onDemand.GetValueOrDefault(name);

    public PushSource? FindSource(string name) => _sources.GetValueOrDefault(name);

    public FeatureServiceDefinition? FindService(string name) => _services.GetValueOrDefault(name);

    public IEnumerable<EntityFeatureView> ViewsOf(PushSource source) => _views.Values.Where(v => v.Source == source.Name).OrderBy(v => v.Name, StringComparer.Ordinal);

    /// <summary>Every view (stored, aggregate, on-demand) as published, by name.</summary>
    public IReadOnlyList<FeatureViewInfo> ViewInfos() =>
        [.. _views.Values.Select(Info).Concat(_onDemand.Values.Select(v => v.Info)).OrderBy(v => v.Name, StringComparer.Ordinal)];

    public FeatureViewInfo? ViewInfo(string name) =>
        _views.TryGetValue(name, out var view) ? Info(view) : _onDemand.GetValueOrDefault(name)?.Info;

    public FeatureViewInfo Info(EntityFeatureView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        return _infos[view.Name];
    }

    private FeatureViewInfo Describe(EntityFeatureView view)
    {
        var entity = _entities[view.Entity];
        var info = new FeatureViewInfo(view.Name, string.Empty, view.Description, [], view.Features, view.Kind, entity.Name, entity.JoinKeys, view.Source,
            view.Ttl is { } ttl ? (long)ttl.TotalSeconds : null, view.Owner, view.Tags,
            Aggregations: view is AggregateFeatureView a
                ? [.. a.Aggregations.Select(x => new AggregationInfo(x.Feature, x.Column, x.Function.ToString().ToLowerInvariant(), (long)x.Window.TotalSeconds))]
                : null);
        // Like an on-demand view's, the version is a hash of what gives the values their meaning (not of owner or tags).
        var meaning = JsonSerializer.SerializeToUtf8Bytes(new { info.Kind, info.JoinKeys, info.Features, info.Source, info.TtlSeconds, info.Aggregations }, StrataJson.Options);
        return info with { Version = Convert.ToHexStringLower(SHA256.HashData(meaning))[..12] };
    }

    public PushSourceInfo SourceInfo(PushSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var entity = _entities[source.Entity];
        IReadOnlyList<FeatureField> schema = [.. entity.JoinKeys, new FeatureField("event_timestamp", LogicalType.Timestamp, "When the event happened (RFC 3339 or epoch seconds)"), .. source.Columns];
        return new PushSourceInfo(source.Name, source.Entity, schema, [.. ViewsOf(source).Select(v => v.Name)], source.Description, source.Topic);
    }

    public FeatureServiceInfo ServiceInfo(FeatureServiceDefinition service)
    {
        ArgumentNullException.ThrowIfNull(service);
        var plan = Resolve(service.Features, null, fullFeatureNames: true);
        var projections = plan.Selections.Where(s => !s.Hidden)
            .Select(s => new FeatureProjection(s.ViewName, [.. s.Features.Where((_, i) => s.Visible[i]).Select(f => f.Name)])).ToList();
        return new FeatureServiceInfo(service.Name, service.Description, projections, [.. projections.SelectMany(p => p.Features.Select(f => $"{p.View}:{f}"))]);
    }

    /// <summary>Resolves <c>view:feature</c> references (or a feature service) to the views to read and the output columns.</summary>
    /// <param name="requestColumns">Columns the request carries: an on-demand input of that name is taken from the
    /// request rather than from the view's source views.</param>
    public FeaturePlan Resolve(IReadOnlyList<string>? features, string? featureService, bool fullFeatureNames, IReadOnlyCollection<string>? requestColumns = null)
    {
        // Plans are immutable once built and requests repeat: the same refs and columns resolve once (a bounded cache).
        var key = PlanKey(features, featureService, fullFeatureNames, requestColumns);
        if (_plans.TryGetValue(key, out var cached))
        {
            return cached;
        }
        var plan = Build(features, featureService, fullFeatureNames, requestColumns);
        if (_plans.Count < MaxCachedPlans)
        {
            _plans.TryAdd(key, plan);
        }
        return plan;
    }

    private const int MaxCachedPlans = 1024;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, FeaturePlan> _plans = new(StringComparer.Ordinal);

    private static string PlanKey(IReadOnlyList<string>? features, string? featureService, bool fullFeatureNames, IReadOnlyCollection<string>? requestColumns)
    {
        var key = new System.Text.StringBuilder(128);
        key.Append(fullFeatureNames ? '1' : '0').Append('\u001f').Append(featureService).Append('\u001f');
        foreach (var feature in features ?? [])
        {
            key.Append(feature).Append('\u001e');
        }
        key.Append('\u001f');
        foreach (var column in requestColumns?.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>())
        {
            key.Append(column).Append('\u001e');
        }
        return key.ToString();
    }

    private FeaturePlan Build(IReadOnlyList<string>? features, string? featureService, bool fullFeatureNames, IReadOnlyCollection<string>? requestColumns)
    {
        var selections = new List<ViewSelection>();
        foreach (var reference in References(features, featureService))
        {
            Select(selections, reference);
        }
        AddOnDemandInputs(selections, requestColumns);
        // Entity views first (they are read), then on-demand views (computed from them).
        selections.Sort((a, b) => (a.OnDemand is null ? 0 : 1).CompareTo(b.OnDemand is null ? 0 : 1));
        var (joinKeys, names) = AssignOutputColumns(selections, fullFeatureNames);
        foreach (var odfv in selections.Where(s => s.OnDemand is not null))
        {
            for (var i = 0; i < odfv.InputSources.Count; i++)
            {
                if (odfv.InputSources[i].From is { } from)
                {
                    odfv.InputSources[i] = odfv.InputSources[i] with { FeatureIndex = from.IndexOf(odfv.InputSources[i].Name) };
                }
            }
        }
        var requestData = selections.Where(s => s.OnDemand is not null).SelectMany(s => s.InputSources).Where(i => i.From is null)
            .Select(i => i.Name).Distinct(StringComparer.Ordinal).ToList();
        return new FeaturePlan(joinKeys, selections, names, requestData);
    }

    /// <summary>The feature references asked for: the list given, or the feature service's (not both).</summary>
    private IReadOnlyList<string> References(IReadOnlyList<string>? features, string? featureService)
    {
        if (featureService is null)
        {
            return features is { Count: > 0 } ? features : throw new InputValidationException("features", "is required (or feature_service): a list of 'view:feature' references");
        }
        if (features is { Count: > 0 })
        {
            throw new InputValidationException("features", "give either features or feature_service, not both");
        }
        return (_services.GetValueOrDefault(featureService) ?? throw new ResourceNotFoundException("feature service", featureService)).Features;
    }

    /// <summary>The selection of a view (added on first use).</summary>
    private ViewSelection Selection(List<ViewSelection> selections, string viewName)
    {
        var existing = selections.Find(s => s.ViewName == viewName);
        if (existing is not null)
        {
            return existing;
        }
        var selection = _views.TryGetValue(viewName, out var view) ? new ViewSelection(view, null)
            : _onDemand.TryGetValue(viewName, out var odfv) ? new ViewSelection(null, odfv)
            : throw new InputValidationException("features", $"unknown feature view '{viewName}' (views: {string.Join(", ", _views.Keys.Concat(_onDemand.Keys).Order(StringComparer.Ordinal))})");
        selections.Add(selection);
        return selection;
    }

    /// <summary>Selects what one reference names: <c>view:feature</c>, or every feature of <c>view</c>.</summary>
    private void Select(List<ViewSelection> selections, string reference)
    {
        if (string.IsNullOrWhiteSpace(reference))
        {
            throw new InputValidationException("features", "a feature reference is empty");
        }
        var colon = reference.IndexOf(':', StringComparison.Ordinal);
        var viewName = colon < 0 ? reference : reference[..colon];
        var selection = Selection(selections, viewName);
        if (colon < 0)
        {
            foreach (var f in selection.AllFeatures)
            {
                selection.Add(f.Name, visible: true);
            }
            return;
        }
        var featureName = reference[(colon + 1)..];
        if (!selection.Add(featureName, visible: true))
        {
            throw new InputValidationException("features", $"view '{viewName}' has no feature '{featureName}' (features: {string.Join(", ", selection.AllFeatures.Select(f => f.Name))})");
        }
    }

    /// <summary>On-demand inputs come from the request, or from a same-named feature of one of the view's source views
    /// (selected, hidden from the output, when not asked for).</summary>
    private void AddOnDemandInputs(List<ViewSelection> selections, IReadOnlyCollection<string>? requestColumns)
    {
        foreach (var odfv in selections.Where(s => s.OnDemand is not null).ToList())
        {
            foreach (var input in odfv.OnDemand!.Inputs)
            {
                var source = requestColumns?.Contains(input.Name) == true ? null
                    : odfv.OnDemand.Sources.Select(name => _views[name]).FirstOrDefault(v => v.Features.Any(f => f.Name == input.Name));
                if (source is null)
                {
                    odfv.InputSources.Add(new OnDemandInput(input.Name, null, -1));
                    continue;
                }
                var sourceSelection = Selection(selections, source.Name);
                sourceSelection.Add(input.Name, visible: false);
                odfv.InputSources.Add(new OnDemandInput(input.Name, sourceSelection, -1));
            }
        }
    }

    /// <summary>The join keys of the selected views (one type per name) and the output's feature names, numbering each
    /// visible feature's output column in selection order.</summary>
    private (List<FeatureField> JoinKeys, List<string> Names) AssignOutputColumns(List<ViewSelection> selections, bool fullFeatureNames)
    {
        var joinKeys = new List<FeatureField>();
        var names = new List<string>();
        var column = 0;
        foreach (var s in selections)
        {
            if (s.View is { } view)
            {
                foreach (var key in _entities[view.Entity].JoinKeys)
                {
                    if (joinKeys.Find(k => k.Name == key.Name) is { } existing && existing.Type != key.Type)
                    {
                        throw new InputValidationException("features", $"join key '{key.Name}' is {WireNames.Of(existing.Type)} in one view and {WireNames.Of(key.Type)} in another");
                    }
                    if (!joinKeys.Exists(k => k.Name == key.Name))
                    {
                        joinKeys.Add(key);
                    }
                }
            }
            s.OutputColumns = new int[s.Features.Count];
            for (var i = 0; i < s.Features.Count; i++)
            {
                if (!s.Visible[i])
                {
                    s.OutputColumns[i] = -1;
                    continue;
                }
                s.OutputColumns[i] = column++;
                names.Add(fullFeatureNames ? $"{s.ViewName}__{s.Features[i].Name}" : s.Features[i].Name);
            }
        }
        var duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InputValidationException("features", $"two features are named '{duplicate.Key}'; set full_feature_names to tell them apart");
        }
        return (joinKeys, names);
    }

    /// <summary>Records an error against a definition, naming the file it came from.</summary>
    private sealed class Reporter(FeatureDefinitionSet definitions, List<DefinitionError> errors)
    {
        public int Count => errors.Count;

        public void Add(string kind, string name, string? field, string reason)
        {
            var label = FeatureDefinitionSet.Label(kind, name);
            errors.Add(new DefinitionError(definitions.Origins.GetValueOrDefault(label), label, field, reason));
        }
    }

    private void Validate(Reporter report)
    {
        foreach (var entity in _entities.Values)
        {
            if (entity.JoinKeys.Count == 0 || entity.JoinKeys.Any(k => !k.Type.IsFeatureType() || k.Type == LogicalType.Float64))
            {
                report.Add("entity", entity.Name, "join_keys", "join keys are int64, string or bool");
            }
        }
        foreach (var source in _sources.Values)
        {
            if (!_entities.ContainsKey(source.Entity))
            {
                report.Add("source", source.Name, "entity", $"names unknown entity '{source.Entity}'{Known(_entities.Keys)}");
            }
            if (source.Columns.Any(c => c.Name == "event_timestamp" || _entities.GetValueOrDefault(source.Entity)?.JoinKeys.Any(k => k.Name == c.Name) == true))
            {
                report.Add("source", source.Name, "columns", "lists a join key or event_timestamp, which every row carries anyway");
            }
        }
        foreach (var view in _views.Values)
        {
            ValidateView(view, report);
        }
        foreach (var odfv in _onDemand.Values)
        {
            ValidateOnDemand(odfv, report);
        }
        if (report.Count > 0)
        {
            return; // services resolve against views that must be sound first
        }
        foreach (var service in _services.Values)
        {
            try
            {
                _ = Resolve(service.Features, null, fullFeatureNames: true);
            }
            catch (Exception e) when (e is InputValidationException or ResourceNotFoundException)
            {
                report.Add("feature_service", service.Name, "features", e is InputValidationException v ? v.Reason : e.Message);
            }
        }
    }

    private void ValidateView(EntityFeatureView view, Reporter report)
    {
        if (_onDemand.ContainsKey(view.Name))
        {
            report.Add("feature_view", view.Name, "name", "is declared twice");
        }
        if (!_sources.TryGetValue(view.Source, out var source))
        {
            report.Add("feature_view", view.Name, "source", $"names unknown source '{view.Source}'{Known(_sources.Keys)}");
            return;
        }
        if (source.Entity != view.Entity)
        {
            report.Add("feature_view", view.Name, "entity", $"is '{view.Entity}' but its source '{source.Name}' is about '{source.Entity}'");
        }
        foreach (var column in view.StoredColumns)
        {
            var sourceColumn = source.Columns.FirstOrDefault(c => c.Name == column.Name);
            if (sourceColumn is null)
            {
                report.Add("feature_view", view.Name, view is AggregateFeatureView ? "aggregations" : "features",
                    $"'{column.Name}' is not a column of source '{source.Name}'{Known(source.Columns.Select(c => c.Name))}");
            }
            else if (view is AggregateFeatureView ? !sourceColumn.Type.IsNumeric() : sourceColumn.Type != column.Type)
            {
                report.Add("feature_view", view.Name, view is AggregateFeatureView ? "aggregations" : "features", view is AggregateFeatureView
                    ? $"'{column.Name}' is {WireNames.Of(sourceColumn.Type)} in source '{source.Name}'; aggregates need a number"
                    : $"types '{column.Name}' as {WireNames.Of(column.Type)}, its source as {WireNames.Of(sourceColumn.Type)}");
            }
        }
        if (view is AggregateFeatureView { Aggregations.Count: 0 })
        {
            report.Add("feature_view", view.Name, "aggregations", "needs at least one aggregation");
        }
        else if (view is AggregateFeatureView a && a.Features.GroupBy(f => f.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            report.Add("feature_view", view.Name, "aggregations", $"computes '{twice.Key}' twice");
        }
        if (view.Features.Count == 0)
        {
            report.Add("feature_view", view.Name, "features", "the view has no features");
        }
    }

    private void ValidateOnDemand(OnDemandFeatureView odfv, Reporter report)
    {
        foreach (var source in odfv.Sources)
        {
            if (_onDemand.ContainsKey(source))
            {
                report.Add("feature_view", odfv.Name, "sources", $"'{source}' is an on-demand view; sources are stored or aggregate views (on-demand views do not feed each other, so they cannot form a cycle)");
            }
            else if (!_views.ContainsKey(source))
            {
                report.Add("feature_view", odfv.Name, "sources", $"names unknown view '{source}'{Known(_views.Keys)}");
            }
        }
        foreach (var input in odfv.Inputs)
        {
            var feeding = odfv.Sources.Select(n => _views.GetValueOrDefault(n)).OfType<EntityFeatureView>()
                .Select(v => v.Features.FirstOrDefault(f => f.Name == input.Name)).OfType<FeatureField>().FirstOrDefault();
            if (feeding is not null && (feeding.Type == LogicalType.String) != (input.Type == LogicalType.String))
            {
                report.Add("feature_view", odfv.Name, "inputs", $"input '{input.Name}' is {WireNames.Of(input.Type)} but the feature feeding it is {WireNames.Of(feeding.Type)}");
            }
            if (!input.Type.IsFeatureType() && input.Type != LogicalType.Timestamp)
            {
                report.Add("feature_view", odfv.Name, "inputs", $"input '{input.Name}' is {WireNames.Of(input.Type)}; inputs are int64, float64, bool, string or timestamp");
            }
        }
        var inputs = odfv.Inputs.Select(i => i.Name).ToList();
        if (inputs.Distinct(StringComparer.Ordinal).Count() != inputs.Count || odfv.Features.Select(f => f.Name).Distinct(StringComparer.Ordinal).Count() != odfv.Features.Count)
        {
            report.Add("feature_view", odfv.Name, "features", "names an input or a feature twice");
            return;
        }
        try
        {
            _ = odfv.Transform;
        }
        catch (InvalidDataException e)
        {
            report.Add("feature_view", odfv.Name, "features", e.Message);
        }
    }

    private static string Known(IEnumerable<string> names)
    {
        var list = names.Order(StringComparer.Ordinal).Take(20).ToList();
        return list.Count == 0 ? " (none is declared)" : $" (declared: {string.Join(", ", list)})";
    }

    private static Dictionary<string, T> Unique<T>(IEnumerable<T> items, Func<T, string> name, string kind, FeatureDefinitionSet definitions, List<DefinitionError> errors)
    {
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (!map.TryAdd(name(item), item))
            {
                var label = FeatureDefinitionSet.Label(kind, name(item));
                errors.Add(new DefinitionError(definitions.Origins.GetValueOrDefault(label), label, "name", "is declared twice"));
            }
        }
        return map;
    }
}

/// <summary>A resolved request: join keys needed, the views to read (and on-demand views to compute), output names.</summary>
public sealed record FeaturePlan(
    IReadOnlyList<FeatureField> JoinKeys,
    IReadOnlyList<ViewSelection> Selections,
    IReadOnlyList<string> FeatureNames,
    IReadOnlyList<string> RequestColumns)
{
    public IEnumerable<ViewSelection> EntityViews => Selections.Where(s => s.View is not null);

    public IEnumerable<ViewSelection> OnDemandViews => Selections.Where(s => s.OnDemand is not null);
}

/// <summary>An on-demand input: from a request column (<see cref="From"/> null) or a feature of another selection.</summary>
public sealed record OnDemandInput(string Name, ViewSelection? From, int FeatureIndex);

/// <summary>The features selected from one view; <see cref="Hidden"/> when only read to feed an on-demand view.</summary>
public sealed class ViewSelection(EntityFeatureView? view, OnDemandFeatureView? onDemand)
{
    private readonly List<int> _indices = [];

    public EntityFeatureView? View { get; } = view;

    public OnDemandFeatureView? OnDemand { get; } = onDemand;

    public string ViewName => View?.Name ?? OnDemand!.Name;

    public bool Hidden => !Visible.Contains(true);

    public IReadOnlyList<FeatureField> AllFeatures => View?.Features ?? OnDemand!.Info.Features;

    /// <summary>Indices into <see cref="AllFeatures"/> of the selected features, in selection order.</summary>
    public IReadOnlyList<int> Indices => _indices;

    public List<FeatureField> Features { get; } = [];

    /// <summary>Per selected feature: whether the caller asked for it (false: only read for an on-demand input).</summary>
    public List<bool> Visible { get; } = [];

    /// <summary>Per selected feature: its column in the output, or -1 when not returned.</summary>
    public int[] OutputColumns { get; set; } = [];

    public List<OnDemandInput> InputSources { get; } = [];

    public bool Add(string feature, bool visible)
    {
        var index = -1;
        for (var i = 0; i < AllFeatures.Count; i++)
        {
            if (AllFeatures[i].Name == feature)
            {
                index = i;
                break;
            }
        }
        if (index < 0)
        {
            return false;
        }
        var at = _indices.IndexOf(index);
        if (at >= 0)
        {
            Visible[at] |= visible;
            return true;
        }
        _indices.Add(index);
        Features.Add(AllFeatures[index]);
        Visible.Add(visible);
        return true;
    }

    public int IndexOf(string feature) => Features.FindIndex(f => f.Name == feature);
}
