namespace Strata.Contracts.Monitoring;

/// <summary>How a model's versions did over [<see cref="From"/>, <see cref="To"/>) (<c>GET
/// /api/monitoring/models/{model}/performance</c>): per version, from the prediction log (every routed prediction,
/// a sample of the others) joined by request id to the outcomes fed back so far, and the failures of routed requests.</summary>
public sealed record ModelPerformance(string Model, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<VersionPerformance> Versions);

/// <summary>One version's figures. Latency quantiles are of logged predictions. Quality needs outcomes: for labels
/// (binary: 0 or 1) AUC, log-loss, accuracy, precision and recall at the decision threshold (<see cref="Threshold"/>); for values, MAE and RMSE.
/// <see cref="LossMean"/> and <see cref="LossVariance"/> are the per-outcome loss (log-loss for labels, squared error for
/// values) that sequential tests compare. Absent: not enough data for the figure.</summary>
public sealed record VersionPerformance(string Version, IReadOnlyList<string> Arms, long Predictions, long Failures, double? ErrorRate,
    double? LatencyP50Ms, double? LatencyP99Ms, long Labelled, long Positives, double? Auc, double? LogLoss, double? Accuracy, double? Precision,
    double? Recall, double? Mae, double? Rmse, double? LossMean, double? LossVariance)
{
    /// <summary>The sum of the labels received (conversions, for 0/1 labels), and of their squares: with
    /// <see cref="Predictions"/> as exposures, the mean and variance of an outcome per exposure (none received counts 0).</summary>
    public double LabelSum { get; init; }

    public double LabelSquareSum { get; init; }

    /// <summary>The sum of the values received (revenue, say), and of their squares.</summary>
    public double ValueSum { get; init; }

    public double ValueSquareSum { get; init; }

    /// <summary>Labels 0/1: expected calibration error over ten equal-width bins of the prediction (the count-weighted mean
    /// of |mean prediction − share of positives| per bin): 0 when predicted probabilities are the observed rates.</summary>
    public double? CalibrationError { get; init; }

    /// <summary>Labels 0/1: the ten bins behind <see cref="CalibrationError"/> that hold outcomes.</summary>
    public IReadOnlyList<CalibrationBin>? Calibration { get; init; }

    /// <summary>Labels 0/1: the decision threshold of <see cref="Accuracy"/>, <see cref="Precision"/> and <see cref="Recall"/>
    /// (<c>Strata:Monitoring:DecisionThreshold</c>, or the model's in <c>DecisionThresholds</c>).</summary>
    public double? Threshold { get; init; }
}

/// <summary>Predictions in [<see cref="Lower"/>, <see cref="Upper"/>): how many, their mean, and the share that were positive.</summary>
public sealed record CalibrationBin(double Lower, double Upper, long Count, double MeanPrediction, double PositiveRate);
