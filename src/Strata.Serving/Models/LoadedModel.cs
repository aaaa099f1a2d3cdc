using System.Globalization;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;
using Strata.Contracts.Features;
using Strata.Contracts.Registry;

namespace Strata.Serving.Models;

/// <summary>One model version ready to score: its ML.NET pipeline, a pool of prediction engines (an engine is
/// single-threaded, the pool makes the model safe for concurrent requests) and the compiled feature view it was
/// trained with, so request inputs become features here, with the same compiled definition training used.</summary>
public sealed class LoadedModel
{
    private readonly ObjectPool<PredictionEngine<ModelInput, ModelOutput>> _engines;
    private readonly int _featureCount;

    private LoadedModel(ModelVersion version, FeatureViewInfo view, ITransformer model, MLContext ml, DateTimeOffset loadedAt)
    {
        Version = version;
        Features = FeatureTransform.Compile(view);
        LoadedAt = loadedAt;
        VersionText = version.Version.ToString(CultureInfo.InvariantCulture);
        _featureCount = version.FeatureNames.Count;
        var schema = ModelInput.Schema(_featureCount);
        _engines = new DefaultObjectPool<PredictionEngine<ModelInput, ModelOutput>>(
            new EnginePolicy(() => ml.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model, inputSchemaDefinition: schema)),
            Environment.ProcessorCount * 4);
    }

    public ModelVersion Version { get; }

    public string VersionText { get; }

    public FeatureViewInfo View => Features.View;

    public FeatureTransform Features { get; }

    public DateTimeOffset LoadedAt { get; }

    /// <summary>Loads an artifact, checks it against the view the version was trained with, and warms it up
    /// (the first prediction compiles the pipeline) so the first real request is not slow.</summary>
    public static LoadedModel Load(ModelVersion version, byte[] artifact, FeatureViewInfo view, DateTimeOffset now)
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
        var loaded = new LoadedModel(version, view, model, ml, now);
        loaded.Score(loaded.Features.Compute([.. view.Inputs.Select(i => i.ExclusiveMinimum is double min ? min + 1 : 1)]));
        return loaded;
    }

    /// <summary>The positive-class probability for one feature vector (in the view's order).</summary>
    public double Score(double[] features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var input = new ModelInput { Features = new float[_featureCount] };
        for (var i = 0; i < _featureCount; i++)
        {
            input.Features[i] = (float)features[i];
        }
        var engine = _engines.Get();
        try
        {
            return engine.Predict(input).Probability;
        }
        finally
        {
            _engines.Return(engine);
        }
    }

    private sealed class EnginePolicy(Func<PredictionEngine<ModelInput, ModelOutput>> create)
        : PooledObjectPolicy<PredictionEngine<ModelInput, ModelOutput>>
    {
        public override PredictionEngine<ModelInput, ModelOutput> Create() => create();

        public override bool Return(PredictionEngine<ModelInput, ModelOutput> obj) => true;
    }
}
