using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Strata.Features.Store;

/// <summary>Online lookups per view and their outcome (<c>present</c>, <c>not_found</c>, <c>outside_max_age</c>), and the
/// age of what was served (freshness: how far behind its source a view's answers are). Exported at <c>/metrics</c> as
/// <c>strata_features_*</c>.</summary>
public static class FeatureStoreMetrics
{
    public const string Name = "Strata.Features";

    private static readonly Meter Meter = new(Name);

    /// <summary>Spans of the feature store (the online store's reads).</summary>
    public static readonly System.Diagnostics.ActivitySource Source = new(Name);

    private static readonly Counter<long> Lookups = Meter.CreateCounter<long>("strata.features.online.lookups",
        description: "Entity rows looked up in the online store, by view and outcome");

    private static readonly Histogram<double> Age = Meter.CreateHistogram<double>("strata.features.online.age", "s",
        "Age of the served row (now minus its event time), by view", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 10, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400] });

    public static bool Enabled => Lookups.Enabled;

    /// <summary>One entity row of a stored view: <paramref name="ageMicros"/> is null when nothing was found.</summary>
    public static void Looked(string view, long? ageMicros, bool expired)
    {
        var status = ageMicros is null ? "not_found" : expired ? "outside_max_age" : "present";
        Lookups.Add(1, new TagList { { "view", view }, { "status", status } });
        if (ageMicros is { } age)
        {
            Age.Record(Math.Max(0, age) / 1e6, new TagList { { "view", view } });
        }
    }
}
