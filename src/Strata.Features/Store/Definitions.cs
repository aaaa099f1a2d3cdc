using Strata.Contracts;
using System.Globalization;
using Strata.Contracts.Features;

namespace Strata.Features.Store;

/// <summary>An entity: what features are about (a card, a user), identified by one or more typed join keys.</summary>
public sealed record Entity(string Name, IReadOnlyList<FeatureField> JoinKeys, string? Description = null)
{
    public EntityInfo Info => new(Name, JoinKeys, Description);
}

/// <summary>A source: rows of one entity with an <c>event_timestamp</c> and typed value columns, sent by
/// <c>POST /api/features/push</c>; when <see cref="Topic"/> is set, also published as events on that topic (each event's
/// data one row object, or an array of them); when <see cref="Dataset"/> is set, also read from that Data-module
/// dataset (its newest version, or <see cref="DatasetVersion"/>). Each view fed by it stores the columns it declares.</summary>
public sealed record PushSource(string Name, string Entity, IReadOnlyList<FeatureField> Columns, string? Description = null)
{
    /// <summary>An event topic whose events are rows of this source (the streaming path).</summary>
    public string? Topic { get; init; }

    /// <summary>A Data-module dataset whose rows are this source's (a dataset source).</summary>
    public string? Dataset { get; init; }

    /// <summary>For a dataset source: the one version to read (otherwise each new version, as it is ingested).</summary>
    public string? DatasetVersion { get; init; }

    /// <summary>For a dataset source: the dataset's column holding each row's event time.</summary>
    public string TimestampColumn { get; init; } = "event_timestamp";

    public string Kind => Dataset is null ? "push" : "dataset";
}

/// <summary>How a sliding-window aggregate combines the values in its window.</summary>
public enum AggregationFunction
{
    Count,
    Sum,
    Mean,
    Min,
    Max,
}

/// <summary><c>Function(Column)</c> over the events of the last <c>Window</c> (the window is <c>(t - window, t]</c>).
/// The feature is named <c>{column}_{function}_{window}</c>, e.g. <c>amount_sum_1h</c>.</summary>
public sealed record Aggregation(string Column, AggregationFunction Function, TimeSpan Window)
{
    public string Feature => $"{Column}_{Function.ToString().ToLowerInvariant()}_{WindowLabel(Window)}";

    public LogicalType Type => Function == AggregationFunction.Count ? LogicalType.Int64 : LogicalType.Float64;

    public static string WindowLabel(TimeSpan window) =>
        window.Ticks % TimeSpan.TicksPerHour == 0 ? ((long)window.TotalHours).ToString(CultureInfo.InvariantCulture) + "h"
        : window.Ticks % TimeSpan.TicksPerMinute == 0 ? ((long)window.TotalMinutes).ToString(CultureInfo.InvariantCulture) + "m"
        : ((long)window.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
}

/// <summary>A view whose features are stored per entity key with an event timestamp: offline as Parquet (for
/// point-in-time retrieval), online as the latest value (for serving).</summary>
public abstract record EntityFeatureView(string Name, string Entity, string Source, string Description)
{
    /// <summary>A value older than this (relative to the entity row's timestamp offline, to now online) is not served.</summary>
    public TimeSpan? Ttl { get; init; }

    public string? Owner { get; init; }

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>The features the view serves, in order.</summary>
    public abstract IReadOnlyList<FeatureField> Features { get; }

    /// <summary>The value columns the view keeps in its stores (for an aggregate view, the raw event columns).</summary>
    public abstract IReadOnlyList<FeatureField> StoredColumns { get; }

    public abstract string Kind { get; }
}

/// <summary>A stored feature view: the latest value of each feature per entity, as pushed or materialised.</summary>
public sealed record StoredFeatureView(string Name, string Entity, string Source, IReadOnlyList<FeatureField> Schema, string Description)
    : EntityFeatureView(Name, Entity, Source, Description)
{
    public override IReadOnlyList<FeatureField> Features => Schema;

    public override IReadOnlyList<FeatureField> StoredColumns => Schema;

    public override string Kind => FeatureViewKinds.Stored;
}

/// <summary>A streaming aggregate view: per-entity sliding-window aggregates over the events of its source. The events
/// are stored (online: those inside the longest window); the aggregates are computed when read, by
/// <see cref="WindowAggregator"/> both offline and online, so the two cannot differ.</summary>
public sealed record AggregateFeatureView(string Name, string Entity, string Source, IReadOnlyList<Aggregation> Aggregations, string Description)
    : EntityFeatureView(Name, Entity, Source, Description)
{
    private readonly Lazy<(FeatureField[] Features, FeatureField[] Columns)> _fields = new(() => (
        [.. Aggregations.Select(a => new FeatureField(a.Feature, a.Type, $"{a.Function.ToString().ToLowerInvariant()} of {a.Column} over the last {Aggregation.WindowLabel(a.Window)}")) ],
        [.. Aggregations.Select(a => a.Column).Distinct(StringComparer.Ordinal).Select(c => new FeatureField(c, LogicalType.Float64))]));

    public override IReadOnlyList<FeatureField> Features => _fields.Value.Features;

    public override IReadOnlyList<FeatureField> StoredColumns => _fields.Value.Columns;

    public override string Kind => FeatureViewKinds.Aggregate;

    /// <summary>The longest window: how far back an online read needs events.</summary>
    public TimeSpan MaxWindow => Aggregations.Max(a => a.Window);
}

/// <summary>A feature service: the features one model consumes, as <c>view:feature</c> references or <c>view</c>
/// (every feature of the view).</summary>
public sealed record FeatureServiceDefinition(string Name, IReadOnlyList<string> Features, string? Description = null);
