namespace Strata.Training.Trainers;

/// <summary>What the holdout says beyond the headline metrics: the confusion matrix at the decision threshold, the
/// calibration of the probabilities (ten equal-width bins and the expected calibration error), the ROC and
/// precision-recall curves, and permutation feature importance (the holdout AUC lost when one feature's values are
/// shuffled across rows). Stored as the run's evaluation artifact; its scalars are also run metrics.</summary>
public sealed record EvaluationReport(
    double Threshold,
    ConfusionCounts Confusion,
    IReadOnlyList<CalibrationBin> Calibration,
    double CalibrationError,
    IReadOnlyList<CurvePoint> Roc,
    IReadOnlyList<CurvePoint> PrecisionRecall,
    IReadOnlyDictionary<string, double> PermutationImportance)
{
    public const int Bins = 10;

    /// <summary>The scalars, as run metrics (keys MLflow accepts).</summary>
    public IEnumerable<KeyValuePair<string, double>> Metrics()
    {
        yield return new("true_positives", Confusion.TruePositives);
        yield return new("false_positives", Confusion.FalsePositives);
        yield return new("true_negatives", Confusion.TrueNegatives);
        yield return new("false_negatives", Confusion.FalseNegatives);
        yield return new("precision", Confusion.Precision);
        yield return new("recall", Confusion.Recall);
        yield return new("calibration_error", CalibrationError);
        foreach (var (feature, importance) in PermutationImportance)
        {
            yield return new($"importance.{feature}", importance);
        }
    }

    /// <summary>From the holdout's labels and predicted probabilities; <paramref name="aucWithout"/> gives the holdout AUC
    /// with one feature (by index) permuted.</summary>
    public static EvaluationReport Create(bool[] labels, float[] probabilities, double threshold, double auc, IReadOnlyList<string> features, Func<int, double> aucWithout)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(aucWithout);
        long tp = 0, fp = 0, tn = 0, fn = 0;
        var count = new int[Bins];
        var predicted = new double[Bins];
        var positive = new int[Bins];
        for (var i = 0; i < labels.Length; i++)
        {
            var p = double.IsNaN(probabilities[i]) ? 0 : Math.Clamp(probabilities[i], 0, 1);
            var yes = p >= threshold;
            (tp, fp, tn, fn) = (labels[i], yes) switch
            {
                (true, true) => (tp + 1, fp, tn, fn),
                (false, true) => (tp, fp + 1, tn, fn),
                (false, false) => (tp, fp, tn + 1, fn),
                _ => (tp, fp, tn, fn + 1),
            };
            var bin = Math.Min(Bins - 1, (int)(p * Bins));
            count[bin]++;
            predicted[bin] += p;
            positive[bin] += labels[i] ? 1 : 0;
        }
        var bins = new List<CalibrationBin>(Bins);
        var error = 0.0;
        for (var b = 0; b < Bins; b++)
        {
            var meanPredicted = count[b] == 0 ? 0 : predicted[b] / count[b];
            var observed = count[b] == 0 ? 0 : positive[b] / (double)count[b];
            bins.Add(new CalibrationBin((double)b / Bins, (double)(b + 1) / Bins, count[b], meanPredicted, observed));
            error += labels.Length == 0 ? 0 : count[b] / (double)labels.Length * Math.Abs(meanPredicted - observed);
        }
        var (roc, pr) = Curves(labels, probabilities);
        var importance = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var f = 0; f < features.Count; f++)
        {
            importance[features[f]] = auc - aucWithout(f);
        }
        return new EvaluationReport(threshold, new ConfusionCounts(tp, fp, tn, fn), bins, error, roc, pr, importance);
    }

    /// <summary>ROC (false positive rate, true positive rate) and precision-recall points at up to 101 thresholds
    /// (the probabilities' quantiles), highest threshold first.</summary>
    private static (List<CurvePoint> Roc, List<CurvePoint> PrecisionRecall) Curves(bool[] labels, float[] probabilities)
    {
        var order = Enumerable.Range(0, labels.Length).OrderByDescending(i => probabilities[i]).ToArray();
        var positives = labels.Count(l => l);
        var negatives = labels.Length - positives;
        var roc = new List<CurvePoint> { new(1, 0, 0) };
        var pr = new List<CurvePoint>();
        var step = Math.Max(1, (order.Length + 99) / 100);
        long tp = 0, fp = 0;
        for (var k = 0; k < order.Length; k++)
        {
            if (labels[order[k]])
            {
                tp++;
            }
            else
            {
                fp++;
            }
            var last = k == order.Length - 1;
            // A point where the threshold changes: after every step-th row and at the end.
            if ((k + 1) % step == 0 || last)
            {
                var threshold = probabilities[order[k]];
                roc.Add(new CurvePoint(threshold, negatives == 0 ? 0 : fp / (double)negatives, positives == 0 ? 0 : tp / (double)positives));
                pr.Add(new CurvePoint(threshold, positives == 0 ? 0 : tp / (double)positives, tp + fp == 0 ? 1 : tp / (double)(tp + fp)));
            }
        }
        return (roc, pr);
    }
}

public sealed record ConfusionCounts(long TruePositives, long FalsePositives, long TrueNegatives, long FalseNegatives)
{
    public double Precision => TruePositives + FalsePositives == 0 ? 0 : TruePositives / (double)(TruePositives + FalsePositives);

    public double Recall => TruePositives + FalseNegatives == 0 ? 0 : TruePositives / (double)(TruePositives + FalseNegatives);
}

/// <summary>Predictions with probability in [<see cref="From"/>, <see cref="To"/>): how many, their mean probability,
/// and the share that were positive.</summary>
public sealed record CalibrationBin(double From, double To, int Count, double MeanPredicted, double Observed);

/// <summary>One point of a curve at a probability threshold: ROC (x = false positive rate, y = true positive rate) or
/// precision-recall (x = recall, y = precision).</summary>
public sealed record CurvePoint(double Threshold, double X, double Y);
