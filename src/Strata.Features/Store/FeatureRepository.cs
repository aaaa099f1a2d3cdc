using System.Security.Cryptography;
using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Features.Views;

namespace Strata.Features.Store;

/// <summary>Every definition of the feature store (entities, push sources, views, feature services), checked for
/// consistency when the module starts, and the resolution of feature references into a <see cref="FeaturePlan"/>.</summary>
public sealed class FeatureRepository
{
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
    {
        _entities = Unique(entities, e => e.Name, "entity");
        _sources = Unique(sources, s => s.Name, "push source");
        _views = Unique(views, v => v.Name, "feature view");
        _onDemand = Unique(onDemand, v => v.Name, "feature view");
        _services = Unique(services, s => s.Name, "feature service");
        Validate();
        // Definitions never change while the process runs: publish each view once.
        _infos = _views.Values.ToDictionary(v => v.Name, Describe, StringComparer.Ordinal);
    }

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

    private void Validate()
    {
        foreach (var entity in _entities.Values)
        {
            if (entity.JoinKeys.Count == 0 || entity.JoinKeys.Any(k => !k.Type.IsFeatureType() || k.Type == LogicalType.Float64))
            {
                throw new InvalidOperationException($"entity '{entity.Name}' needs join keys of type int64, string or bool");
            }
        }
        foreach (var source in _sources.Values)
        {
            if (!_entities.ContainsKey(source.Entity))
            {
                throw new InvalidOperationException($"push source '{source.Name}' names unknown entity '{source.Entity}'");
            }
        }
        foreach (var view in _views.Values)
        {
            if (_onDemand.ContainsKey(view.Name))
            {
                throw new InvalidOperationException($"feature view '{view.Name}' is defined twice");
            }
            var source = _sources.GetValueOrDefault(view.Source) ?? throw new InvalidOperationException($"view '{view.Name}' names unknown push source '{view.Source}'");
            if (source.Entity != view.Entity)
            {
                throw new InvalidOperationException($"view '{view.Name}' is about '{view.Entity}' but its source '{source.Name}' is about '{source.Entity}'");
            }
            foreach (var column in view.StoredColumns)
            {
                var sourceColumn = source.Columns.FirstOrDefault(c => c.Name == column.Name)
                    ?? throw new InvalidOperationException($"view '{view.Name}' stores '{column.Name}', which source '{source.Name}' does not carry");
                if (sourceColumn.Type != column.Type)
                {
                    throw new InvalidOperationException($"view '{view.Name}' types '{column.Name}' as {WireNames.Of(column.Type)}, its source as {WireNames.Of(sourceColumn.Type)}");
                }
            }
            if (view is AggregateFeatureView { Aggregations.Count: 0 })
            {
                throw new InvalidOperationException($"aggregate view '{view.Name}' has no aggregations");
            }
        }
        foreach (var odfv in _onDemand.Values)
        {
            foreach (var source in odfv.Sources)
            {
                if (!_views.ContainsKey(source))
                {
                    throw new InvalidOperationException($"on-demand view '{odfv.Name}' reads unknown view '{source}'");
                }
            }
        }
        foreach (var service in _services.Values)
        {
            _ = Resolve(service.Features, null, fullFeatureNames: true);
        }
    }

    private static Dictionary<string, T> Unique<T>(IEnumerable<T> items, Func<T, string> name, string what)
    {
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (!map.TryAdd(name(item), item))
            {
                throw new InvalidOperationException($"{what} '{name(item)}' is defined twice");
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
