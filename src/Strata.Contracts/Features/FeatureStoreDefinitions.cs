namespace Strata.Contracts.Features;

/// <summary>The value types a stored feature or a join key can have (Feast's <c>Float64</c>, <c>Int64</c>, <c>String</c>, <c>Bool</c>).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "The names are the wire names of the types.")]
/// <summary>An entity as published: the join keys (name and value type) that identify one of it.</summary>
public sealed record EntityInfo(string Name, IReadOnlyList<FeatureField> JoinKeys, string? Description = null);

/// <summary>A push source as published: the columns a push must carry (join keys, <c>event_timestamp</c>, values).</summary>
public sealed record PushSourceInfo(string Name, string Entity, IReadOnlyList<FeatureField> Schema, IReadOnlyList<string> FeatureViews, string? Description = null, string? Topic = null);

/// <summary>One sliding-window aggregate of an aggregate view: <c>function</c>(<c>column</c>) over the last <c>window_seconds</c>.</summary>
public sealed record AggregationInfo(string Feature, string Column, string Function, long WindowSeconds);

/// <summary>The features a feature service selects from one view.</summary>
public sealed record FeatureProjection(string View, IReadOnlyList<string> Features);

/// <summary>A feature service: the named set of features one model consumes.</summary>
public sealed record FeatureServiceInfo(string Name, string? Description, IReadOnlyList<FeatureProjection> Projections, IReadOnlyList<string> FeatureRefs);

/// <summary>Kinds of feature views.</summary>
public static class FeatureViewKinds
{
    /// <summary>Features computed per row from request data and/or other views' features (the seed's <c>age_squared</c>).</summary>
    public const string OnDemand = "on_demand";

    /// <summary>Features stored per entity with an event timestamp (offline Parquet, online store).</summary>
    public const string Stored = "stored";

    /// <summary>Sliding-window aggregates per entity over a stream of events.</summary>
    public const string Aggregate = "aggregate";

    /// <summary>Not a declared view: the features a model trained on a feature service (or references) reads, by entity.</summary>
    public const string Service = "feature_service";
}
