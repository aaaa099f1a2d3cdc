using Strata.Contracts.Monitoring;
using Strata.Monitoring.Storage;

namespace Strata.Monitoring;

/// <summary>A version's figures from its joined predictions: counts, latency quantiles, and quality where outcomes came.
/// A label counts as binary when it is 0 or 1 (AUC by ranks with ties averaged, log-loss with predictions clipped to
/// [1e-15, 1 − 1e-15], accuracy, precision and recall at the decision threshold, 0.5 unless configured); a value gives MAE and RMSE. The per-outcome loss (log-loss
/// for labels, squared error for values) is summarised as mean and variance for sequential tests.</summary>
public static class OutcomeMetrics
{
    public const double Epsilon = 1e-15;

    /// <param name="threshold">Labels 0/1: a prediction at or above it counts as positive (accuracy, precision, recall).</param>
    public static VersionPerformance Of(string version, IReadOnlyList<JoinedPrediction> rows, long failures, double threshold = 0.5)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var arms = rows.Select(r => r.Arm).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var latencies = rows.Select(r => r.LatencyMs).Order().ToArray();
        var total = rows.Count + failures;
        var labelled = rows.Where(r => r.Label is 0 or 1).ToList();
        var valued = rows.Where(r => r.Label is not (0 or 1) && r.Value is not null).ToList();
        double? auc = null, logLoss = null, accuracy = null, precision = null, recall = null, mae = null, rmse = null, lossMean = null, lossVariance = null;
        IReadOnlyList<CalibrationBin>? calibration = null;
        if (labelled.Count > 0)
        {
            var losses = labelled.Select(r => LogLoss(r.Prediction, r.Label!.Value)).ToArray();
            logLoss = losses.Average();
            (lossMean, lossVariance) = (logLoss, Variance(losses));
            var truePositives = labelled.Count(r => r.Prediction >= threshold && r.Label == 1);
            var predictedPositive = labelled.Count(r => r.Prediction >= threshold);
            var positives = labelled.Count(r => r.Label == 1);
            accuracy = labelled.Count(r => (r.Prediction >= threshold) == (r.Label == 1)) / (double)labelled.Count;
            precision = predictedPositive == 0 ? null : truePositives / (double)predictedPositive;
            recall = positives == 0 ? null : truePositives / (double)positives;
            auc = Auc(labelled.Select(r => (r.Prediction, r.Label == 1)).ToList());
            calibration = Calibration(labelled);
        }
        else if (valued.Count > 0)
        {
            var squared = valued.Select(r => (r.Prediction - r.Value!.Value) * (r.Prediction - r.Value!.Value)).ToArray();
            mae = valued.Average(r => Math.Abs(r.Prediction - r.Value!.Value));
            rmse = Math.Sqrt(squared.Average());
            (lossMean, lossVariance) = (squared.Average(), Variance(squared));
        }
        return new VersionPerformance(version, arms, rows.Count, failures, total == 0 ? null : failures / (double)total,
            Quantile(latencies, 0.5), Quantile(latencies, 0.99), labelled.Count + valued.Count, labelled.Count(r => r.Label == 1),
            auc, logLoss, accuracy, precision, recall, mae, rmse, lossMean, lossVariance)
        {
            LabelSum = rows.Sum(r => r.Label ?? 0),
            LabelSquareSum = rows.Sum(r => (r.Label ?? 0) * (r.Label ?? 0)),
            ValueSum = rows.Sum(r => r.Value ?? 0),
            ValueSquareSum = rows.Sum(r => (r.Value ?? 0) * (r.Value ?? 0)),
            Calibration = calibration,
            Threshold = labelled.Count > 0 ? threshold : null,
            CalibrationError = calibration?.Sum(b => b.Count * Math.Abs(b.MeanPrediction - b.PositiveRate)) / labelled.Count,
        };
    }

    /// <summary>Ten equal-width bins of the prediction (1.0 in the last), those that hold outcomes.</summary>
    public static IReadOnlyList<CalibrationBin> Calibration(IReadOnlyList<JoinedPrediction> labelled)
    {
        ArgumentNullException.ThrowIfNull(labelled);
        return [.. labelled.GroupBy(r => Math.Clamp((int)Math.Floor(r.Prediction * 10), 0, 9)).OrderBy(g => g.Key)
            .Select(g => new CalibrationBin(g.Key / 10.0, (g.Key + 1) / 10.0, g.Count(), g.Average(r => r.Prediction), g.Count(r => r.Label == 1) / (double)g.Count()))];
    }

    public static double LogLoss(double prediction, double label)
    {
        var p = Math.Clamp(prediction, Epsilon, 1 - Epsilon);
        return label == 1 ? -Math.Log(p) : -Math.Log(1 - p);
    }

    /// <summary>The probability that a random positive scores above a random negative (ties count half), or null without both.</summary>
    public static double? Auc(IReadOnlyList<(double Score, bool Positive)> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var positives = rows.Count(r => r.Positive);
        var negatives = rows.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            return null;
        }
        var sorted = rows.OrderBy(r => r.Score).ToList();
        double rankSum = 0;
        for (var i = 0; i < sorted.Count;)
        {
            var j = i;
            while (j < sorted.Count && sorted[j].Score == sorted[i].Score)
            {
                j++;
            }
            var averageRank = (i + 1 + j) / 2.0; // ranks i+1..j
            for (var k = i; k < j; k++)
            {
                if (sorted[k].Positive)
                {
                    rankSum += averageRank;
                }
            }
            i = j;
        }
        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>The sample variance (n − 1), or null for fewer than two values.</summary>
    public static double? Variance(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count < 2)
        {
            return null;
        }
        var mean = values.Average();
        return values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
    }

    /// <summary>The nearest-rank quantile of sorted values, or null when empty.</summary>
    public static double? Quantile(double[] sorted, double q)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        return sorted.Length == 0 ? null : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
