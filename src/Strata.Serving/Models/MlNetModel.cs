using Strata.Contracts;
using System.Globalization;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Contracts.Registry;
using Strata.Contracts.Training;

namespace Strata.Serving.Models;

/// <summary>An ML.NET model version as Strata trains it: its pipeline (normalisation, trainer, calibrator), pools of
/// prediction engines (an engine is single-threaded; the pool makes the model safe for concurrent requests) and the
/// compiled feature view it was trained with, so request inputs become features here with the same compiled definition
/// training used. Its signature is the view's inputs (FP64, one value per row) and, by the version's task, a
/// <c>probability</c> output (binary classification), a <c>prediction</c> (regression), or a <c>label</c> (the
/// class value) and <c>probabilities</c> (one per class, in the order of the version's <c>classes</c> param).</summary>
public sealed class MlNetModel : ServableModel
{
    public const string ProbabilityOutput = "probability";
    public const string PredictionOutput = "prediction";
    public const string LabelOutput = "label";
    public const string ProbabilitiesOutput = "probabilities";
    public const string ExplainMethod = "mlnet-feature-contribution";

    /// <summary>Multiclass explanations: the predicted class's probability minus its probability with the feature at
    /// its training baseline (ML.NET computes no contributions for multiclass predictors).</summary>
    public const string OcclusionMethod = "occlusion-vs-training-baseline";

    /// <summary>Engines kept per pool. Creating an engine compiles code (ML.NET emits its getters), so a pool smaller than
    /// the requests scoring at once under load keeps creating and dropping engines: measured, 12% of the CPU went to the
    /// JIT at 32 connections with 8 retained. An idle engine costs a few kilobytes.</summary>
    private static readonly int EnginesRetained = Math.Max(64, Environment.ProcessorCount * 16);
    private readonly ObjectPool<PredictionEngine<ModelInput, ModelOutput>>? _engines;
    private readonly ObjectPool<PredictionEngine<ModelInput, ScoreOutput>>? _regression;
    private readonly ObjectPool<PredictionEngine<ModelInput, ScoresOutput>>? _multiclass;
    private readonly ObjectPool<PredictionEngine<ModelInput, ExplainedOutput>>? _explainers;
    private readonly ObjectPool<PredictionEngine<ModelInput, ExplainedScoreOutput>>? _regressionExplainers;
    private readonly int[] _numeric;
    private readonly int[] _categorical;
    private readonly double[] _classes;
    private readonly double[]? _baseline;

    private MlNetModel(ModelVersion version, FeatureViewInfo view, ITransformer model, MLContext ml, DateTimeOffset loadedAt)
        : base(version, loadedAt)
    {
        Features = FeatureTransform.Compile(view);
        (_numeric, _categorical) = Layout(version);
        var task = version.Params.GetValueOrDefault(TrainingParameterNames.Task) ?? WireNames.Of(TrainingTask.BinaryClassification);
        Task = WireNames.TryParse<TrainingTask>(task, out var known) ? known
            : throw new InvalidDataException($"model {version.Model} v{version.Version} has task '{task}', which this server does not serve");
        var schema = ModelInput.Schema(_numeric.Length, _categorical.Length);
        Inputs = [.. view.Inputs.Select(i => new TensorMetadata(i.Name, TensorDatatype.Fp64, [-1]))];
        switch (Task)
        {
            case TrainingTask.Regression:
                _classes = [];
                _regression = Pool<ScoreOutput>(ml, model, schema);
                if (Explainable(ml, model, schema) is { } explainingRegression)
                {
                    _regressionExplainers = Pool<ExplainedScoreOutput>(ml, explainingRegression, schema);
                }
                Outputs = [new(PredictionOutput, TensorDatatype.Fp64, [-1])];
                break;
            case TrainingTask.MulticlassClassification:
                _classes = System.Text.Json.JsonSerializer.Deserialize<double[]>(version.Params.GetValueOrDefault(TrainingParameterNames.Classes) ?? "null")
                    ?? throw new InvalidDataException($"model {version.Model} v{version.Version} is multiclass but its params name no classes");
                _multiclass = Pool<ScoresOutput>(ml, model, schema);
                _baseline = version.Params.GetValueOrDefault(TrainingParameterNames.FeatureBaseline) is { } baseline
                    ? System.Text.Json.JsonSerializer.Deserialize<double[]>(baseline) is { } values && values.Length == version.FeatureNames.Count ? values
                        : throw new InvalidDataException($"model {version.Model} v{version.Version}: its feature_baseline does not have one value per feature")
                    : null;
                Outputs = [new(LabelOutput, TensorDatatype.Fp64, [-1]), new(ProbabilitiesOutput, TensorDatatype.Fp64, [-1, _classes.Length])];
                break;
            case TrainingTask.BinaryClassification:
                _classes = [];
                _engines = Pool<ModelOutput>(ml, model, schema);
                if (Explainable(ml, model, schema) is { } explaining)
                {
                    _explainers = Pool<ExplainedOutput>(ml, explaining, schema);
                }
                Outputs = [new(ProbabilityOutput, TensorDatatype.Fp64, [-1])];
                break;
            default:
                throw new InvalidDataException($"model {version.Model} v{version.Version} has task '{Task}', which this server does not serve");
        }
    }

    /// <summary>Which of the version's features (indices in its feature order) are the numeric vector and which the
    /// categorical one: the <see cref="TrainingParameterNames.Categorical"/> param names the latter.</summary>
    private static (int[] Numeric, int[] Categorical) Layout(ModelVersion version)
    {
        var names = version.Params.GetValueOrDefault(TrainingParameterNames.Categorical) is { } json
            ? System.Text.Json.JsonSerializer.Deserialize<string[]>(json) ?? []
            : [];
        var categorical = names.Select(name => version.FeatureNames.ToList().IndexOf(name) is >= 0 and var index ? index
            : throw new InvalidDataException($"model {version.Model} v{version.Version} encodes '{name}' as a category but has no such feature")).Order().ToArray();
        return ([.. Enumerable.Range(0, version.FeatureNames.Count).Except(categorical)], categorical);
    }

    private static DefaultObjectPool<PredictionEngine<ModelInput, TOutput>> Pool<TOutput>(MLContext ml, ITransformer model, SchemaDefinition schema)
        where TOutput : class, new() =>
        new(new EnginePolicy<TOutput>(() => ml.Model.CreatePredictionEngine<ModelInput, TOutput>(model, inputSchemaDefinition: schema)), EnginesRetained);

    /// <summary>The version's learning task: what <see cref="Score"/> answers.</summary>
    public TrainingTask Task { get; }

    /// <summary>Multiclass: the class values, in the order of <see cref="Probabilities"/>.</summary>
    public IReadOnlyList<double> Classes => _classes;

    public override string PrimaryOutput => Outputs[0].Name;

    public override string Platform => ModelFormats.MlNet;

    public override IReadOnlyList<TensorMetadata> Inputs { get; }

    public override IReadOnlyList<TensorMetadata> Outputs { get; }

    public override bool CanExplain => _explainers is not null || _regressionExplainers is not null || (_multiclass is not null && _baseline is not null);

    public FeatureViewInfo View => Features.View;

    public FeatureTransform Features { get; }

    /// <summary>Loads an artifact, checks it against the view the version was trained with, and warms it up
    /// (the first prediction compiles the pipeline) so the first real request is not slow.</summary>
    public static MlNetModel Load(ModelVersion version, byte[] artifact, FeatureViewInfo view, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(view);
        var expected = view.Features.Select(f => f.Name).ToList();
        if (view.Version != version.FeatureViewVersion || !expected.SequenceEqual(version.FeatureNames))
        {
            throw new InvalidDataException(
                $"model {version.Model} v{version.Version} was trained on view '{version.FeatureView}' version {version.FeatureViewVersion} " +
                $"[{string.Join(", ", version.FeatureNames)}] but the view is now version {view.Version} [{string.Join(", ", expected)}]; " +
                "retrain on the current definition (serving it would be training/serving skew)");
        }
        var ml = new MLContext(seed: 0);
        using var stream = new MemoryStream(artifact, writable: false);
        var model = ml.Model.Load(stream, out _);
        var loaded = new MlNetModel(version, view, model, ml, now);
        var warm = loaded.Features.Compute([.. view.Inputs.Select(i => i.ExclusiveMinimum is double min ? min + 1 : 1)]);
        loaded.Score(warm);
        if (loaded.CanExplain)
        {
            loaded.ExplainFeatures(warm);
        }
        return loaded;
    }

    /// <summary>The prediction for one feature vector (in the view's order): the positive-class probability (binary),
    /// the predicted value (regression), or the most probable class's value (multiclass).</summary>
    public double Score(double[] features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var input = ToInput(features);
        if (_engines is not null)
        {
            return Predict(_engines, input).Probability;
        }
        if (_regression is not null)
        {
            return Predict(_regression, input).Score;
        }
        return _classes[ArgMax(Predict(_multiclass!, input).Score)];
    }

    /// <summary>Multiclass: each class's probability for one feature vector, in the order of <see cref="Classes"/>.</summary>
    public double[] Probabilities(double[] features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var pool = _multiclass ?? throw new InvalidOperationException($"model {Name} v{VersionText} is not multiclass");
        return [.. Predict(pool, ToInput(features)).Score.Select(p => (double)p)];
    }

    private static TOutput Predict<TOutput>(ObjectPool<PredictionEngine<ModelInput, TOutput>> pool, ModelInput input) where TOutput : class, new()
    {
        var engine = pool.Get();
        try
        {
            return engine.Predict(input);
        }
        finally
        {
            pool.Return(engine);
        }
    }

    private static int ArgMax(float[] scores)
    {
        var best = 0;
        for (var i = 1; i < scores.Length; i++)
        {
            if (scores[i] > scores[best])
            {
                best = i;
            }
        }
        return best;
    }

    /// <summary>Accepts any numeric or BOOL datatype (converted to FP64) with shape <c>[N]</c> or <c>[N, 1]</c>.</summary>
    protected override Tensor BindInput(TensorMetadata spec, Tensor given)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(given);
        if (!TensorDatatype.IsNumeric(given.Datatype) && given.Datatype != TensorDatatype.Bool)
        {
            throw new InputValidationException(spec.Name, $"has datatype {given.Datatype}; the model takes FP64 (BOOL and the other numeric types are converted)");
        }
        if (given.Shape.Length is < 1 or > 2 || (given.Shape.Length == 2 && given.Shape[1] != 1))
        {
            throw new InputValidationException(spec.Name, $"has shape [{string.Join(", ", given.Shape)}]; the model takes [N] or [N, 1]");
        }
        return new Tensor(spec.Name, TensorDatatype.Fp64, [given.Shape[0]], TensorDatatype.ToDoubles(given.Data));
    }

    public override Tensor[] Infer(Tensor[] inputs, IReadOnlyList<string> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var rows = Rows(inputs);
        var scores = new double[rows.Length];
        if (_multiclass is null)
        {
            for (var r = 0; r < rows.Length; r++)
            {
                scores[r] = Score(ComputeRow(rows[r], r));
            }
            return [new Tensor(PrimaryOutput, TensorDatatype.Fp64, [scores.Length], scores)];
        }
        var k = _classes.Length;
        var probabilities = new double[rows.Length * k];
        for (var r = 0; r < rows.Length; r++)
        {
            var row = Predict(_multiclass, ToInput(ComputeRow(rows[r], r))).Score;
            scores[r] = _classes[ArgMax(row)];
            for (var c = 0; c < k; c++)
            {
                probabilities[(r * k) + c] = row[c];
            }
        }
        return [new Tensor(LabelOutput, TensorDatatype.Fp64, [rows.Length], scores), new Tensor(ProbabilitiesOutput, TensorDatatype.Fp64, [rows.Length, k], probabilities)];
    }

    public override IReadOnlyList<Explanation> Explain(Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (!CanExplain)
        {
            return base.Explain(inputs);
        }
        var rows = Rows(inputs);
        return [.. rows.Select((row, r) => ExplainFeatures(ComputeRow(row, r)))];
    }

    /// <summary>The explanation of one feature vector: ML.NET's feature contributions to the trainer's raw score
    /// (tree models: the score change along each tree's decision path attributed to the feature split on; linear models:
    /// weight times value), largest first.</summary>
    public Explanation ExplainFeatures(double[] features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (_multiclass is not null && _baseline is not null)
        {
            return Occlusion(features, _multiclass, _baseline);
        }
        var input = ToInput(features);
        var (prediction, score, weights) = _explainers is not null ? FromBinary(Predict(_explainers, input))
            : _regressionExplainers is not null ? FromRegression(Predict(_regressionExplainers, input))
            : throw new InvalidOperationException($"model {Name} v{VersionText} has no explainer");
        // The contributions are per slot of the pipeline's final vector: the numeric features, then one block of
        // indicators per categorical feature; a categorical feature's contribution is its block's sum.
        var block = _categorical.Length == 0 ? 0 : (weights.Length - _numeric.Length) / _categorical.Length;
        var byFeature = new double[features.Length];
        for (var i = 0; i < _numeric.Length; i++)
        {
            byFeature[_numeric[i]] = weights[i];
        }
        for (var c = 0; c < _categorical.Length; c++)
        {
            byFeature[_categorical[c]] = weights.AsSpan(_numeric.Length + (c * block), block).ToArray().Sum(w => (double)w);
        }
        var contributions = View.Features.Select((f, i) => new FeatureContribution(f.Name, features[i], byFeature[i]))
            .OrderByDescending(c => Math.Abs(c.Contribution)).ToList();
        return new Explanation(prediction, score, ExplainMethod, contributions);

        static (double, double, float[]) FromBinary(ExplainedOutput o) => (o.Probability, o.Score, o.FeatureContributions);
        static (double, double, float[]) FromRegression(ExplainedScoreOutput o) => (o.Score, o.Score, o.FeatureContributions);
    }

    /// <summary>A multiclass explanation: for each feature, how much the predicted class's probability drops when that
    /// feature alone is set to its training baseline (negative: the value argues against the class); one scoring per
    /// feature.</summary>
    private Explanation Occlusion(double[] features, ObjectPool<PredictionEngine<ModelInput, ScoresOutput>> pool, double[] baseline)
    {
        var probabilities = Predict(pool, ToInput(features)).Score;
        var k = ArgMax(probabilities);
        var contributions = new List<FeatureContribution>(features.Length);
        var occluded = (double[])features.Clone();
        for (var i = 0; i < features.Length; i++)
        {
            occluded[i] = baseline[i];
            contributions.Add(new FeatureContribution(View.Features[i].Name, features[i], probabilities[k] - Predict(pool, ToInput(occluded)).Score[k]));
            occluded[i] = features[i];
        }
        return new Explanation(_classes[k], probabilities[k], OcclusionMethod, [.. contributions.OrderByDescending(c => Math.Abs(c.Contribution))]);
    }

    private double[] ComputeRow(double[] row, int r)
    {
        try
        {
            return Features.Compute(row);
        }
        catch (InputValidationException e)
        {
            throw new InputValidationException(e.Field, string.Create(CultureInfo.InvariantCulture, $"{e.Reason} (row {r})"));
        }
    }

    /// <summary>Bound FP64 columns as rows of request inputs.</summary>
    private static double[][] Rows(Tensor[] inputs)
    {
        var n = checked((int)RowsOf(inputs));
        var rows = new double[n][];
        for (var r = 0; r < n; r++)
        {
            var row = new double[inputs.Length];
            for (var i = 0; i < inputs.Length; i++)
            {
                row[i] = ((double[])inputs[i].Data)[r];
            }
            rows[r] = row;
        }
        return rows;
    }

    private ModelInput ToInput(double[] features)
    {
        // Most models have no categorical features: no array for them on the hot path.
        var input = new ModelInput { Features = new float[_numeric.Length], Categories = _categorical.Length == 0 ? [] : new float[_categorical.Length] };
        for (var i = 0; i < _numeric.Length; i++)
        {
            input.Features[i] = (float)features[_numeric[i]];
        }
        for (var i = 0; i < _categorical.Length; i++)
        {
            input.Categories[i] = (float)features[_categorical[i]];
        }
        return input;
    }

    /// <summary>The pipeline with ML.NET's feature-contribution transform after its predictor, when the predictor supports
    /// one (tree ensembles, linear models, and those calibrated by their trainer: FastTree, LightGBM, logistic
    /// regression); null otherwise. Contributions are to the raw score, before calibration.</summary>
    private static TransformerChain<Microsoft.ML.Transforms.FeatureContributionCalculatingTransformer>? Explainable(MLContext ml, ITransformer model, SchemaDefinition schema)
    {
        if (model is not TransformerChain<ITransformer> chain)
        {
            return null;
        }
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<ModelInput>(), schema);
        // Every slot of the vector the predictor reads (categorical features add their indicators) is reported.
        var features = ((VectorDataViewType)model.Transform(empty).Schema["Features"].Type).Size;
        Microsoft.ML.Transforms.FeatureContributionCalculatingEstimator? estimator = null;
        foreach (var transformer in chain.Reverse())
        {
            estimator = transformer switch
            {
                ISingleFeaturePredictionTransformer<ICalculateFeatureContribution> plain =>
                    ml.Transforms.CalculateFeatureContribution(plain, features, features, normalize: false),
                ISingleFeaturePredictionTransformer<CalibratedModelParametersBase<FastTreeBinaryModelParameters, PlattCalibrator>> fastTree =>
                    ml.Transforms.CalculateFeatureContribution(fastTree, features, features, normalize: false),
                ISingleFeaturePredictionTransformer<CalibratedModelParametersBase<LightGbmBinaryModelParameters, PlattCalibrator>> lightGbm =>
                    ml.Transforms.CalculateFeatureContribution(lightGbm, features, features, normalize: false),
                ISingleFeaturePredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>> linear =>
                    ml.Transforms.CalculateFeatureContribution(linear, features, features, normalize: false),
                _ => null,
            };
            if (estimator is not null)
            {
                break;
            }
        }
        return estimator is null ? null : model.Append(estimator.Fit(model.Transform(empty)));
    }

    private sealed class EnginePolicy<TOutput>(Func<PredictionEngine<ModelInput, TOutput>> create) : PooledObjectPolicy<PredictionEngine<ModelInput, TOutput>>
        where TOutput : class, new()
    {
        public override PredictionEngine<ModelInput, TOutput> Create() => create();

        public override bool Return(PredictionEngine<ModelInput, TOutput> obj) => true;
    }

    /// <summary>A regression pipeline's output: the predicted value.</summary>
    public sealed class ScoreOutput
    {
        public float Score { get; set; }
    }

    /// <summary>A multiclass pipeline's output: one probability per class.</summary>
    public sealed class ScoresOutput
    {
        public float[] Score { get; set; } = [];
    }

    /// <summary>The explaining regression pipeline's output: the prediction and one contribution per feature.</summary>
    public sealed class ExplainedScoreOutput
    {
        public float Score { get; set; }

        public float[] FeatureContributions { get; set; } = [];
    }

    /// <summary>The explaining pipeline's output: probability, raw score and one contribution per feature.</summary>
    public sealed class ExplainedOutput
    {
        public float Probability { get; set; }

        public float Score { get; set; }

        public float[] FeatureContributions { get; set; } = [];
    }
}
