using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Microsoft.ML.Transforms;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Contracts.Training;
using static Strata.Training.Trainers.BinaryTrainer;

namespace Strata.Training.Trainers;

/// <summary>Multiclass classification and regression in ML.NET, the tasks whose label is a number rather than a yes/no:
/// standardise, then the requested trainer; evaluated on a seeded holdout. Multiclass: each distinct label value is a
/// class (sorted by value; the saved pipeline outputs <c>Score</c>, one probability per class in that order), the
/// trees trainers one-versus-all; regression: <c>Score</c> is the prediction. As with binary models, the saved pipeline
/// holds the normalisation, so serving applies exactly what training fitted.</summary>
public static class ValueTrainer
{
    /// <summary>Most classes a multiclass model may have (a label with more distinct values is likely a regression target).</summary>
    public const int MaxClasses = 100;

    /// <summary>Trains <paramref name="task"/> (multiclass or regression) and evaluates it on the holdout.</summary>
    public static TrainedModel Train(TrainingFrame frame, TrainingTask task, Trainer trainer, int trees, double holdoutFraction, int seed, CancellationToken cancellationToken,
        int folds = 0, IReadOnlyList<string>? categorical = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var layout = FeatureLayout.Create(frame, categorical);
        var multiclass = task == TrainingTask.MulticlassClassification;
        var rows = Rows(frame, layout);
        var classes = multiclass ? Classes(rows) : [];

        var ml = new MLContext(seed);
        cancellationToken.ThrowIfCancellationRequested();
        IDataView data = ml.Data.LoadFromEnumerable(rows, layout.Schema<ValueRow>());
        if (multiclass)
        {
            // The label becomes a key (class i = the i-th smallest value) before the split, outside the saved pipeline:
            // serving has no label, and the class order is kept in the version's params.
            data = ml.Transforms.Conversion.MapValueToKey(LabelColumn, keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(data).Transform(data);
        }
        var split = ml.Data.TrainTestSplit(data, holdoutFraction, seed: seed);
        var trainRows = Count(split.TrainSet);
        var holdoutRows = Count(split.TestSet);
        if (trainRows == 0 || holdoutRows == 0)
        {
            throw new InputValidationException("dataset_id", $"{rows.Length} rows leave an empty training or holdout split");
        }
        if (multiclass && split.TrainSet.GetColumn<uint>(LabelColumn).Distinct().Count() < classes.Length)
        {
            throw new InputValidationException("dataset_id", "some class has no row in the training split; more rows of it are needed");
        }

        var prepare = layout.Prepare(ml);
        var pipeline = multiclass ? prepare.Append(MulticlassEstimator(ml, trainer, trees, seed, trainRows)) : prepare.Append(RegressionEstimator(ml, trainer, trees, seed, trainRows));
        var fitStarted = Stopwatch.GetTimestamp();
        var model = FitCancellation.Run(ml, () => pipeline.Fit(split.TrainSet), cancellationToken);
        var fitTime = Stopwatch.GetElapsedTime(fitStarted);
        cancellationToken.ThrowIfCancellationRequested();
        var cv = folds >= 2 ? CrossValidate(ml, split.TrainSet, pipeline, multiclass, folds, seed, cancellationToken) : [];
        var (metrics, evaluation, scores) = multiclass
            ? EvaluateMulticlass(ml, model, split.TestSet, layout, frame.FeatureNames, classes, seed)
            : EvaluateRegression(ml, model, split.TestSet, layout, frame.FeatureNames, seed);
        foreach (var (key, value) in evaluation.Metrics().Concat(cv))
        {
            metrics[key] = value;
        }
        using var zip = new MemoryStream();
        ml.Model.Save(model, split.TrainSet.Schema, zip);
        return new TrainedModel(zip.ToArray(), metrics, trainRows, holdoutRows, evaluation, Signature(model, split.TrainSet, layout))
        {
            // The baseline of prediction drift: the holdout's predictions as serving logs them.
            HoldoutScores = scores,
            FitTime = fitTime,
            Layout = layout,
            Classes = classes.Select(c => (double)c).ToArray(),
        };
    }

    /// <summary>The frame as ML.NET rows; every label must be a finite number.</summary>
    private static ValueRow[] Rows(TrainingFrame frame, FeatureLayout layout)
    {
        var rows = new ValueRow[frame.Rows];
        for (var r = 0; r < rows.Length; r++)
        {
            var label = frame.Label[r];
            if (!double.IsFinite(label))
            {
                throw new InputValidationException("label", string.Create(CultureInfo.InvariantCulture, $"row {r} has label {label}; the label must be a finite number"));
            }
            rows[r] = new ValueRow { Label = (float)label };
            layout.Fill(rows[r], frame, r);
        }
        return rows;
    }

    /// <summary>The classes of a multiclass label: its distinct values, sorted (2 to <see cref="MaxClasses"/>).</summary>
    private static float[] Classes(ValueRow[] rows)
    {
        var classes = rows.Select(r => r.Label).Distinct().Order().ToArray();
        return classes.Length is < 2 or > MaxClasses
            ? throw new InputValidationException("label", string.Create(CultureInfo.InvariantCulture,
                $"has {classes.Length} distinct values; multiclass classification needs 2 to {MaxClasses} classes"))
            : classes;
    }

    /// <summary>k-fold on the training split only (the holdout stays unseen): each fold's headline metrics, mean and spread.</summary>
    private static Dictionary<string, double> CrossValidate(MLContext ml, IDataView train, IEstimator<ITransformer> pipeline, bool multiclass, int folds, int seed,
        CancellationToken cancellationToken)
    {
        var perFold = FitCancellation.Run(ml, () => multiclass
            ? ml.MulticlassClassification.CrossValidate(train, pipeline, folds, LabelColumn, seed: seed)
                .Select(r => new[] { ("macro_accuracy", r.Metrics.MacroAccuracy), ("log_loss", r.Metrics.LogLoss) }).ToList()
            : ml.Regression.CrossValidate(train, pipeline, folds, LabelColumn, seed: seed)
                .Select(r => new[] { ("rmse", r.Metrics.RootMeanSquaredError), ("r2", r.Metrics.RSquared) }).ToList(), cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        var cv = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var name in perFold[0].Select(m => m.Item1))
        {
            var values = perFold.Select(f => f.Single(m => m.Item1 == name).Item2).ToArray();
            var mean = values.Average();
            cv[$"cv_{name}_mean"] = mean;
            cv[$"cv_{name}_std"] = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
        }
        cv["cv_folds"] = folds;
        return cv;
    }

    /// <summary>Accuracy, log loss, the confusion matrix and permutation importance (macro accuracy) on the holdout.</summary>
    private static (Dictionary<string, double>, EvaluationReport, double[] Scores) EvaluateMulticlass(MLContext ml, TransformerChain<ITransformer> model, IDataView test,
        FeatureLayout layout, IReadOnlyList<string> featureNames, float[] classes, int seed)
    {
        var scored = model.Transform(test);
        var m = ml.MulticlassClassification.Evaluate(scored, LabelColumn);
        var metrics = new Dictionary<string, double>
        {
            ["accuracy"] = m.MicroAccuracy,
            ["macro_accuracy"] = m.MacroAccuracy,
            ["log_loss"] = m.LogLoss,
            ["log_loss_reduction"] = m.LogLossReduction,
            ["classes"] = classes.Length,
        };
        var holdout = layout.Read(test);
        var truth = test.GetColumn<uint>(LabelColumn).ToArray();
        var evaluation = EvaluationReport.ForMulticlass(classes, m.ConfusionMatrix.Counts, m.MacroAccuracy, featureNames,
            f => ml.MulticlassClassification.Evaluate(model.Transform(Permuted(ml, layout, holdout, truth, f, seed, classes.Length)), LabelColumn).MacroAccuracy);
        // What serving logs as a multiclass prediction: the predicted class's value (PredictedLabel is its 1-based key).
        double[] predicted = [.. scored.GetColumn<uint>("PredictedLabel").Select(k => k >= 1 && k <= classes.Length ? (double)classes[k - 1] : double.NaN)];
        return (metrics, evaluation, predicted);
    }

    /// <summary>RMSE, MAE, R² and permutation importance (RMSE) on the holdout.</summary>
    private static (Dictionary<string, double>, EvaluationReport, double[] Scores) EvaluateRegression(MLContext ml, TransformerChain<ITransformer> model, IDataView test, FeatureLayout layout,
        IReadOnlyList<string> featureNames, int seed)
    {
        var scored = model.Transform(test);
        var m = ml.Regression.Evaluate(scored, LabelColumn);
        var metrics = new Dictionary<string, double>
        {
            ["rmse"] = m.RootMeanSquaredError,
            ["mae"] = m.MeanAbsoluteError,
            ["r2"] = m.RSquared,
            ["mse"] = m.MeanSquaredError,
        };
        var holdout = layout.Read(test);
        var truth = test.GetColumn<float>(LabelColumn).ToArray();
        float[] predictions = [.. scored.GetColumn<float>("Score")];
        var evaluation = EvaluationReport.ForRegression(truth, predictions, m.RootMeanSquaredError, featureNames,
            f => ml.Regression.Evaluate(model.Transform(Permuted(ml, layout, holdout, truth, f, seed)), LabelColumn).RootMeanSquaredError);
        return (metrics, evaluation, [.. predictions.Select(p => (double)p)]);
    }

    private static IEstimator<ITransformer> MulticlassEstimator(MLContext ml, Trainer trainer, int trees, int seed, int rows) => trainer switch
    {
        // Trees one-versus-all: one binary model per class, each calibrated so the class probabilities compare.
        Trainer.FastForest => ml.MulticlassClassification.Trainers.OneVersusAll(Forest(ml, trees, rows), LabelColumn),
        Trainer.FastTree => ml.MulticlassClassification.Trainers.OneVersusAll(BoostedTrees(ml, trees, rows), LabelColumn),
        Trainer.LightGbm => ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
        {
            LabelColumnName = LabelColumn,
            FeatureColumnName = FeaturesColumn,
            NumberOfIterations = trees,
            Seed = seed,
            NumberOfThreads = 1,
            Silent = true,
        }),
        Trainer.LogisticRegression => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(LabelColumn, FeaturesColumn),
        Trainer.Sdca => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(LabelColumn, FeaturesColumn),
        _ => throw new InputValidationException("trainer", $"'{WireNames.Of(trainer)}' does not classify; one of {string.Join(", ", TrainerCatalog.For(TrainingTask.MulticlassClassification).Select(WireNames.Of))}"),
    };

    private static IEstimator<ITransformer> RegressionEstimator(MLContext ml, Trainer trainer, int trees, int seed, int rows) => trainer switch
    {
        Trainer.FastForest => ml.Regression.Trainers.FastForest(new FastForestRegressionTrainer.Options
        {
            LabelColumnName = LabelColumn, FeatureColumnName = FeaturesColumn, NumberOfTrees = trees, MaximumBinCountPerFeature = TreeBins(rows),
        }),
        Trainer.FastTree => ml.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options
        {
            LabelColumnName = LabelColumn, FeatureColumnName = FeaturesColumn, NumberOfTrees = trees, MaximumBinCountPerFeature = TreeBins(rows),
        }),
        Trainer.LightGbm => ml.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options
        {
            LabelColumnName = LabelColumn,
            FeatureColumnName = FeaturesColumn,
            NumberOfIterations = trees,
            Seed = seed,
            NumberOfThreads = 1,
            Silent = true,
        }),
        Trainer.Sdca => ml.Regression.Trainers.Sdca(LabelColumn, FeaturesColumn),
        _ => throw new InputValidationException("trainer", $"'{WireNames.Of(trainer)}' does not regress; one of {string.Join(", ", TrainerCatalog.For(TrainingTask.Regression).Select(WireNames.Of))}"),
    };

    /// <summary>The holdout with feature <paramref name="feature"/> shuffled across rows (seeded), labels kept: float
    /// labels (regression), or class keys 1..<paramref name="classes"/> (multiclass).</summary>
    private static IDataView Permuted<TLabel>(MLContext ml, FeatureLayout layout, List<FeatureRow> holdout, TLabel[] labels, int feature, int seed, int classes = 0)
    {
        var features = layout.Shuffled(holdout, feature, seed);
        if (labels is uint[] keys)
        {
            var schema = layout.Schema<KeyRow>();
            schema[LabelColumn].ColumnType = new KeyDataViewType(typeof(uint), classes);
            return ml.Data.LoadFromEnumerable(features.Select((f, i) => new KeyRow { Features = f.Features, Categories = f.Categories, Label = keys[i] }), schema);
        }
        var floats = (float[])(object)labels;
        return ml.Data.LoadFromEnumerable(features.Select((f, i) => new ValueRow { Features = f.Features, Categories = f.Categories, Label = floats[i] }),
            layout.Schema<ValueRow>());
    }

    private sealed class KeyRow : FeatureRow
    {
        public uint Label { get; set; }
    }

    private sealed class ValueRow : FeatureRow
    {
        public float Label { get; set; }
    }
}
