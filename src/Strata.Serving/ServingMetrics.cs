using System.Diagnostics;
using System.Diagnostics.Metrics;
using Strata.Serving.Models;

namespace Strata.Serving;

/// <summary>Per model and version: predictions, their latency (from the request's start to the score) and the score
/// distribution (the first element of the primary output; buckets for probabilities, anything above 1 counts in +Inf),
/// and failures of routed requests. Exported at <c>/metrics</c> as <c>strata_serving_*</c>.</summary>
public static class ServingMetrics
{
    public const string Name = "Strata.Serving";

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Predictions = Meter.CreateCounter<long>("strata.serving.predictions", description: "Rows scored");

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("strata.serving.prediction.duration", "s",
        "Time from the request's start to a row's score");

    private static readonly Histogram<double> Score = Meter.CreateHistogram<double>("strata.serving.score", unit: null,
        description: "Scores (first element of the primary output)", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1] });

    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("strata.serving.failures",
        description: "Requests a traffic policy routed that got no prediction, by status");

    /// <summary>One row scored.</summary>
    public static void Scored(ServableModel model, double score, long startedTimestamp)
    {
        if (!Predictions.Enabled)
        {
            return;
        }
        var tags = new TagList { { "model", model.Name }, { "version", model.VersionText } };
        Predictions.Add(1, tags);
        Duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, tags);
        Score.Record(score, tags);
    }

    /// <summary>A tensor request scored: its rows, one latency, each row's primary score where it is numeric.</summary>
    public static void Scored(ServableModel model, Tensor[] outputs, long rows, long startedTimestamp)
    {
        if (!Predictions.Enabled)
        {
            return;
        }
        var tags = new TagList { { "model", model.Name }, { "version", model.VersionText } };
        Predictions.Add(rows, tags);
        Duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, tags);
        var primary = Array.Find(outputs, o => o.Name == model.PrimaryOutput) ?? (outputs.Length > 0 ? outputs[0] : null);
        if (primary is null || rows <= 0)
        {
            return;
        }
        var stride = primary.Data.Length / rows;
        if (stride <= 0)
        {
            return;
        }
        for (long r = 0; r < rows; r++)
        {
            var i = r * stride;
            switch (primary.Data)
            {
                case float[] f: Score.Record(f[i], tags); break;
                case double[] d: Score.Record(d[i], tags); break;
                default: return;
            }
        }
    }

    public static void Failed(ServableModel model, int status)
    {
        Failures.Add(1, new TagList { { "model", model.Name }, { "version", model.VersionText }, { "status", status } });
    }
}
