namespace Strata.Training.Trainers;

/// <summary>What the holdout says beyond the headline metrics. Binary: the confusion matrix at the decision threshold,
/// the calibration of the probabilities (ten equal-width bins and the expected calibration error), the ROC and
/// precision-recall curves. Multiclass: the classes and the confusion matrix (rows the true class, columns the
/// predicted). Regression: residual quantiles and ten bins of predicted value against the mean actual value. Every task:
/// permutation feature importance (the headline metric lost when one feature's values are shuffled across rows: AUC,
/// macro accuracy, or RMSE gained). Stored as the run's evaluation artifact; its scalars are also run metrics.</summary>
public sealed record EvaluationReport(
    double Threshold,
    ConfusionCounts? Confusion,
    IReadOnlyList<CalibrationBin> Calibration,
    double CalibrationError,
    IReadOnlyList<CurvePoint>? Roc,
    IReadOnlyList<CurvePoint>? PrecisionRecall,
    IReadOnlyDictionary<string, double> PermutationImportance)
{
    public const int Bins = 10;

    public Contracts.Training.TrainingTask Task { get; init; } = Contracts.Training.TrainingTask.BinaryClassification;

    /// <summary>Multiclass: the class values, in the order of <see cref="ClassConfusion"/> and of the model's scores.</summary>
    public IReadOnlyList<double>? Classes { get; init; }

    /// <summary>Multiclass: counts, row = true class, column = predicted class.</summary>
    public IReadOnlyList<IReadOnlyList<double>>? ClassConfusion { get; init; }

    /// <summary>Regression: quantiles of actual minus predicted.</summary>
    public IReadOnlyDictionary<string, double>? Residuals { get; init; }

    /// <summary>The scalars, as run metrics (keys MLflow accepts).</summary>
    public IEnumerable<KeyValuePair<string, double>> Metrics()
    {
        if (Confusion is { } confusion)
        {
            yield return new("true_positives", confusion.TruePositives);
            yield return new("false_positives", confusion.FalsePositives);
            yield return new("true_negatives", confusion.TrueNegatives);
            yield return new("false_negatives", confusion.FalseNegatives);
            yield return new("precision", confusion.Precision);
            yield return new("recall", confusion.Recall);
            // At the decision threshold (replacing ML.NET's, which are at its own default).
            yield return new("accuracy", confusion.Accuracy);
            yield return new("f1", confusion.F1);
            yield return new("threshold", Threshold);
            yield return new("calibration_error", CalibrationError);
        }
        foreach (var (name, value) in Residuals ?? new Dictionary<string, double>())
        {
            yield return new($"residual_{name}", value);
        }
        foreach (var (feature, importance) in PermutationImportance)
        {
            yield return new($"importance.{feature}", importance);
        }
    }

    /// <summary>Multiclass, from ML.NET's confusion counts; <paramref name="accuracyWithout"/> gives the holdout's macro
    /// accuracy with one feature (by index) permuted.</summary>
    public static EvaluationReport ForMulticlass(IReadOnlyList<float> classes, IReadOnlyList<IReadOnlyList<double>> counts, double macroAccuracy,
        IReadOnlyList<string> features, Func<int, double> accuracyWithout)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(accuracyWithout);
        return new EvaluationReport(0, null, [], 0, null, null, Importance(features, f => macroAccuracy - accuracyWithout(f)))
        {
            Task = Contracts.Training.TrainingTask.MulticlassClassification,
            Classes = [.. classes.Select(c => (double)c)],
            ClassConfusion = counts,
        };
    }

    /// <summary>Regression, from the holdout's actual and predicted values; <paramref name="rmseWithout"/> gives the
    /// holdout's RMSE with one feature (by index) permuted.</summary>
    public static EvaluationReport ForRegression(float[] actual, float[] predicted, double rmse, IReadOnlyList<string> features, Func<int, double> rmseWithout)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(rmseWithout);
        var residuals = actual.Select((a, i) => (double)a - predicted[i]).Order().ToArray();
        double Quantile(double q) => residuals.Length == 0 ? 0 : residuals[Math.Min(residuals.Length - 1, (int)(q * residuals.Length))];
        // Bins of equal count by predicted value: where the model over- or under-predicts.
        var order = Enumerable.Range(0, predicted.Length).OrderBy(i => predicted[i]).ToArray();
        var bins = new List<CalibrationBin>(Bins);
        for (var b = 0; b < Bins && order.Length > 0; b++)
        {
            var members = order[(b * order.Length / Bins)..((b + 1) * order.Length / Bins)];
            if (members.Length > 0)
            {
                bins.Add(new CalibrationBin(predicted[members[0]], predicted[members[^1]], members.Length,
                    members.Average(i => predicted[i]), members.Average(i => actual[i])));
            }
        }
        var error = predicted.Length == 0 ? 0 : bins.Sum(b => b.Count / (double)predicted.Length * Math.Abs(b.MeanPredicted - b.Observed));
        return new EvaluationReport(0, null, bins, error, null, null, Importance(features, f => rmseWithout(f) - rmse))
        {
            Task = Contracts.Training.TrainingTask.Regression,
            Residuals = new Dictionary<string, double>
            {
                ["p05"] = Quantile(0.05), ["p25"] = Quantile(0.25), ["p50"] = Quantile(0.5), ["p75"] = Quantile(0.75), ["p95"] = Quantile(0.95),
            },
        };
    }

    private static Dictionary<string, double> Importance(IReadOnlyList<string> features, Func<int, double> lost)
    {
        var importance = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var f = 0; f < features.Count; f++)
        {
            importance[features[f]] = lost(f);
        }
        return importance;
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

    public double Accuracy => TruePositives + FalsePositives + TrueNegatives + FalseNegatives == 0 ? 0
        : (TruePositives + TrueNegatives) / (double)(TruePositives + FalsePositives + TrueNegatives + FalseNegatives);

    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>Predictions with probability in [<see cref="From"/>, <see cref="To"/>): how many, their mean probability,
/// and the share that were positive.</summary>
public sealed record CalibrationBin(double From, double To, int Count, double MeanPredicted, double Observed);

/// <summary>One point of a curve at a probability threshold: ROC (x = false positive rate, y = true positive rate) or
/// precision-recall (x = recall, y = precision).</summary>
public sealed record CurvePoint(double Threshold, double X, double Y);
