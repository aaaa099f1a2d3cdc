using System.Diagnostics;
using System.Diagnostics.Metrics;
using Strata.Contracts;
using Strata.Contracts.Training;

namespace Strata.Training;

/// <summary>Training runs by task and outcome (finished, failed, killed) and how long they took, from the frame to the
/// registered version. Exported at <c>/metrics</c> as <c>strata_training_*</c>.</summary>
public static class TrainingMetrics
{
    private static readonly Meter Meter = new("Strata.Training");

    private static readonly Counter<long> Runs = Meter.CreateCounter<long>("strata.training.runs", description: "Training runs that ended, by task and status");

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("strata.training.duration", "s",
        "Wall time of a training run (frame, fit, evaluation, registration)");

    public static void Finished(TrainingTask task, string status, TimeSpan elapsed)
    {
        var tags = new TagList { { "task", WireNames.Of(task) }, { "status", status } };
        Runs.Add(1, tags);
        Duration.Record(elapsed.TotalSeconds, tags);
    }
}
