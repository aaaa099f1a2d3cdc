using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Strata.Contracts.Errors;
using Microsoft.ML.Trainers.LightGbm;
using Strata.Contracts.Features;
using Strata.Contracts.Training;

namespace Strata.Training.Trainers;

/// <summary>Binary classification in ML.NET: standardise (mean/variance), then the requested trainer
/// (<see cref="TrainerNames"/>): a FastForest random forest (Platt-calibrated on the training split: a forest's score is not
/// a probability), FastTree or LightGBM gradient-boosted trees, or L-BFGS logistic regression; evaluated on a seeded
/// holdout. The saved pipeline includes the normalisation, so serving applies exactly what training fitted.
/// Input: a float vector column <c>Features</c>; output: <c>Probability</c>.</summary>
public static class BinaryTrainer
{
    public const string FeaturesColumn = "Features";
    public const string LabelColumn = "Label";

    /// <summary>Trains and evaluates; returns the saved model zip and the holdout metrics.</summary>
    public static TrainedModel Train(TrainingFrame frame, string trainer, int trees, double holdoutFraction, int seed, CancellationToken cancellationToken, int folds = 0)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var labels = frame.Label.Select((v, i) => v switch
        {
            0 => false,
            1 => true,
            _ => throw new InputValidationException("label", string.Create(CultureInfo.InvariantCulture, $"row {i} has label {v}; binary classification needs 0 or 1")),
        }).ToArray();
        var rows = new LabelledRow[frame.Rows];
        for (var r = 0; r < rows.Length; r++)
        {
            var features = new float[frame.Features.Count];
            for (var f = 0; f < features.Length; f++)
            {
                features[f] = (float)frame.Features[f][r];
            }
            rows[r] = new LabelledRow { Features = features, Label = labels[r] };
        }

        var ml = new MLContext(seed);
        cancellationToken.ThrowIfCancellationRequested();
        var data = ml.Data.LoadFromEnumerable(rows, LabelledRow.Schema(frame.Features.Count));
        var split = ml.Data.TrainTestSplit(data, holdoutFraction, seed: seed);
        var trainRows = Count(split.TrainSet);
        var holdoutRows = Count(split.TestSet);
        RequireBothClasses(ml, split.TrainSet, "training split");
        RequireBothClasses(ml, split.TestSet, "holdout split");

        var normalize = ml.Transforms.NormalizeMeanVariance(FeaturesColumn);
        // One thread per trainer: the machine's cores are the serving module's too (and results stay reproducible).
        IEstimator<ITransformer> pipeline = trainer switch
        {
            TrainerNames.FastForest => normalize
                .Append(ml.BinaryClassification.Trainers.FastForest(LabelColumn, FeaturesColumn, numberOfTrees: trees))
                .Append(ml.BinaryClassification.Calibrators.Platt(LabelColumn)),
            TrainerNames.FastTree => normalize.Append(ml.BinaryClassification.Trainers.FastTree(LabelColumn, FeaturesColumn, numberOfTrees: trees)),
            TrainerNames.LightGbm => normalize.Append(ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                LabelColumnName = LabelColumn,
                FeatureColumnName = FeaturesColumn,
                NumberOfIterations = trees,
                Seed = seed,
                NumberOfThreads = 1,
                Silent = true,
            })),
            TrainerNames.LogisticRegression => normalize.Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(LabelColumn, FeaturesColumn)),
            _ => throw new InputValidationException("trainer", $"'{trainer}' is not a trainer; one of {string.Join(", ", TrainerNames.All)}"),
        };
        // ML.NET's public API cannot interrupt a fit (its host's cancellation is internal): a job cancelled meanwhile
        // stops when the fit returns, before anything is evaluated or registered.
        var model = pipeline.Fit(split.TrainSet);
        cancellationToken.ThrowIfCancellationRequested();
        var cv = new Dictionary<string, double>(StringComparer.Ordinal);
        if (folds >= 2)
        {
            // k-fold on the training split only: the holdout stays unseen by every fold.
            var results = ml.BinaryClassification.CrossValidate(split.TrainSet, pipeline, folds, LabelColumn, seed: seed);
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var (name, values) in new[]
            {
                ("auc", results.Select(r => r.Metrics.AreaUnderRocCurve).ToArray()),
                ("log_loss", results.Select(r => r.Metrics.LogLoss).ToArray()),
            })
            {
                var mean = values.Average();
                cv[$"cv_{name}_mean"] = mean;
                cv[$"cv_{name}_std"] = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
            }
            cv["cv_folds"] = folds;
        }
        var scored = model.Transform(split.TestSet);
        var metrics = ml.BinaryClassification.Evaluate(scored, LabelColumn);

        using var zip = new MemoryStream();
        ml.Model.Save(model, data.Schema, zip);
        var report = new Dictionary<string, double>
        {
            ["auc"] = metrics.AreaUnderRocCurve,
            ["pr_auc"] = metrics.AreaUnderPrecisionRecallCurve,
            ["accuracy"] = metrics.Accuracy,
            ["log_loss"] = metrics.LogLoss,
            ["f1"] = metrics.F1Score,
        };
        var holdout = split.TestSet.GetColumn<float[]>(FeaturesColumn).Zip(split.TestSet.GetColumn<bool>(LabelColumn), (f, l) => (f, l)).ToList();
        var evaluation = EvaluationReport.Create([.. scored.GetColumn<bool>(LabelColumn)], [.. scored.GetColumn<float>("Probability")], 0.5,
            metrics.AreaUnderRocCurve, frame.FeatureNames,
            f => EvaluationReport.AucWithShuffled(ml, model, holdout, f, seed, rows => ml.Data.LoadFromEnumerable(
                rows.Select(r => new LabelledRow { Features = r.Features, Label = r.Label }), LabelledRow.Schema(frame.Features.Count)), LabelColumn));
        foreach (var (key, value) in evaluation.Metrics().Concat(cv))
        {
            report[key] = value;
        }
        // The ONNX graph takes the features only (no label input): what serving binds.
        var featuresOnly = ml.Data.LoadFromEnumerable([new FeatureRow { Features = new float[frame.Features.Count] }], FeatureRow.Schema(frame.Features.Count));
        var (onnx, onnxError) = ExportOnnx(ml, model, featuresOnly);
        return new TrainedModel(zip.ToArray(), report, trainRows, holdoutRows, evaluation, Signature(model, data, frame.FeatureNames), onnx, onnxError);
    }

    /// <summary>The pipeline as ONNX (ML.NET's converter), so it can be served by ONNX Runtime or outside .NET; when a
    /// part of it does not convert, why.</summary>
    private static (byte[]? Onnx, string? Error) ExportOnnx(MLContext ml, ITransformer model, IDataView data)
    {
        try
        {
            using var onnx = new MemoryStream();
            ml.Model.ConvertToOnnx(model, data, onnx);
            return (onnx.ToArray(), null);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException or NotImplementedException)
        {
            return (null, e.Message);
        }
    }

    /// <summary>The saved pipeline's inputs and outputs: what serving binds (the feature vector, its feature names in
    /// order) and what it answers (the output columns with their types).</summary>
    private static ModelSignature Signature(ITransformer model, IDataView data, IReadOnlyList<string> features) => new(
        [new SignatureColumn(FeaturesColumn, "FP32", [-1, features.Count], features)],
        [.. model.GetOutputSchema(data.Schema).Where(c => !c.IsHidden && c.Name is not (FeaturesColumn or LabelColumn))
            .Select(c => new SignatureColumn(c.Name, c.Type.RawType == typeof(bool) ? "BOOL" : c.Type.RawType == typeof(float) ? "FP32" : c.Type.ToString() ?? "unknown", [-1], null))]);

    private static int Count(IDataView view) => checked((int)(view.GetRowCount() ?? view.GetColumn<bool>(LabelColumn).LongCount()));

    private static void RequireBothClasses(MLContext ml, IDataView view, string what)
    {
        var labels = view.GetColumn<bool>(LabelColumn).ToList();
        if (!labels.Contains(true) || !labels.Contains(false))
        {
            throw new InputValidationException("dataset_id", $"the {what} has {labels.Count} rows but only one class; a binary classifier needs both");
        }
    }

    private sealed class FeatureRow
    {
        public float[] Features { get; set; } = [];

        public static SchemaDefinition Schema(int features)
        {
            var schema = SchemaDefinition.Create(typeof(FeatureRow));
            schema[FeaturesColumn].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features);
            return schema;
        }
    }

    private sealed class LabelledRow
    {
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }

        public static SchemaDefinition Schema(int features)
        {
            var schema = SchemaDefinition.Create(typeof(LabelledRow));
            schema[FeaturesColumn].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features);
            return schema;
        }
    }
}
