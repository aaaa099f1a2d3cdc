using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Strata.Contracts.Errors;
using Strata.Contracts.Serving;
using Strata.Serving.Models;

namespace Strata.Serving;

/// <summary>The Serving module in process (<see cref="IServingClient"/>): request inputs go through the model's
/// compiled feature view (fetched from the Features module when the model loads) and then the model, with no
/// network hop per request in either topology. Tensor requests (KServe V1, Open Inference Protocol) of any runtime go
/// through <see cref="InferAsync"/>, micro-batched when <see cref="ServingOptions.MaxBatchSize"/> is above 1.</summary>
public sealed class ServingService(ModelHost host, PredictionLog log, IOptions<ServingOptions> options) : IServingClient
{
    private readonly ConditionalWeakTable<ServableModel, MicroBatcher> _batchers = [];

    /// <summary>Scores inputs already in the order of the model's view inputs, and records it in the prediction log.</summary>
    public PredictionResult Predict(MlNetModel model, double[] inputs, long startedTimestamp, string? traceId)
    {
        ArgumentNullException.ThrowIfNull(model);
        var features = model.Features.Compute(inputs);
        var prediction = model.Score(features);
        log.Record(model, inputs, features, prediction, startedTimestamp, traceId);
        return new PredictionResult(prediction, model.VersionText);
    }

    /// <summary>Scores a feature vector assembled by the feature store (the feature-aware path), and records it.</summary>
    public PredictionResult PredictFeatures(MlNetModel model, double[] features, long startedTimestamp, string? traceId)
    {
        ArgumentNullException.ThrowIfNull(model);
        var prediction = model.Score(features);
        log.Record(model, [], features, prediction, startedTimestamp, traceId);
        return new PredictionResult(prediction, model.VersionText);
    }

    /// <summary>Scores bound tensors (micro-batched when on and the model allows it), records each row in the prediction
    /// log, and returns the outputs asked for (all when none are named), in that order.</summary>
    public async ValueTask<Tensor[]> InferAsync(ServableModel model, Tensor[] inputs, IReadOnlyList<string> outputs, long startedTimestamp, string? traceId)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(outputs);
        // The log reports the primary output, so it is computed with the ones asked for (a batch computes them all).
        IReadOnlyList<string> computed = outputs.Count == 0 || outputs.Contains(model.PrimaryOutput) ? outputs : [.. outputs, model.PrimaryOutput];
        var scored = BatcherFor(model) is { } batcher ? await batcher.InferAsync(inputs) : model.Infer(inputs, computed);
        log.Record(model, inputs, scored, startedTimestamp, traceId);
        if (outputs.Count == 0)
        {
            return scored;
        }
        var selected = new Tensor[outputs.Count];
        for (var i = 0; i < selected.Length; i++)
        {
            selected[i] = Array.Find(scored, o => o.Name == outputs[i])
                ?? throw new InputValidationException("outputs", $"model '{model.Name}' has no output '{outputs[i]}' (outputs: {string.Join(", ", model.Outputs.Select(o => o.Name))})");
        }
        return selected;
    }

    /// <summary>The model's micro-batcher, or null when batching is off or the model's inputs cannot be stacked.</summary>
    public MicroBatcher? BatcherFor(ServableModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var settings = options.Value;
        if (settings.MaxBatchSize < 2 || !model.CanBatch)
        {
            return null;
        }
        return _batchers.GetValue(model, m => new MicroBatcher(m, settings.MaxBatchSize, settings.MaxBatchLatency));
    }

    public Task<PredictionResult> PredictAsync(IReadOnlyDictionary<string, double> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var model = CurrentOrThrow();
        var ordered = new double[model.View.Inputs.Count];
        for (var i = 0; i < ordered.Length; i++)
        {
            var name = model.View.Inputs[i].Name;
            ordered[i] = inputs.TryGetValue(name, out var value) ? value : throw new InputValidationException(name, "is required");
        }
        return Task.FromResult(Predict(model, ordered, System.Diagnostics.Stopwatch.GetTimestamp(), System.Diagnostics.Activity.Current?.TraceId.ToString()));
    }

    public Task<ServingStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var model = host.Current;
        var failures = host.LoadFailures();
        return Task.FromResult(new ServingStatus(host.Options.Model, host.Options.Alias, model is not null,
            model?.Version.Version, model?.LoadedAt, (model as MlNetModel)?.View.Name) { LoadFailures = failures.Count == 0 ? null : failures });
    }

    public async Task<TrafficStatus> GetTrafficAsync(string model, CancellationToken cancellationToken = default)
    {
        Contracts.Registry.AliasName.ValidateModelName(model);
        if (!await host.EnsureServedAsync(model, cancellationToken))
        {
            throw new ResourceNotFoundException("served model", model);
        }
        if (host.PolicyOf(model) is not { } policy)
        {
            var current = host.Get(model, host.Options.Alias);
            return new TrafficStatus(model, null, null, current is null ? [] : [new ArmStatus(Traffic.RoutedPolicy.DefaultArm, current.VersionText, 0)], null);
        }
        var served = policy.Served;
        var arms = policy.Arms.Select((a, i) => new ArmStatus(a.Arm, a.Model.VersionText, served[i])).ToList();
        ShadowStatus? shadow = null;
        if (policy.Shadow is { } s)
        {
            static Quantiles Of(Traffic.GeometricHistogram h) => new(h.Quantile(0.5), h.Quantile(0.9), h.Quantile(0.99));
            var rows = s.Rows;
            shadow = new ShadowStatus(s.Version, s.Mirrored, rows, rows == 0 ? null : (double)s.Agreed / rows, s.Failed, s.Dropped, s.Incomparable,
                s.MeanDelta, Of(s.AbsoluteDelta), Of(s.PrimaryLatencyMs), Of(s.ShadowLatencyMs));
        }
        return new TrafficStatus(model, policy.Version.Version, policy.Policy, arms, shadow);
    }

    /// <summary>The model <c>/predict</c> answers with: the default model's default alias, which must be an ML.NET model
    /// (named inputs of a feature view); an ONNX model is asked through its tensor protocols.</summary>
    public MlNetModel CurrentOrThrow() => host.Current switch
    {
        null => throw new DependencyUnavailableException("serving", $"no version of {host.Options.Model}@{host.Options.Alias} is loaded yet"),
        var model => ForPredict(model),
    };

    /// <summary>The model <c>/predict</c> answers with (its default model, <see cref="ServingOptions.Model"/>).</summary>
    public string DefaultModel => host.Options.Model;

    /// <summary>A version <c>/predict</c> can answer with: an ML.NET model (named inputs of a feature view).</summary>
    public static MlNetModel ForPredict(ServableModel model) => model as MlNetModel ?? throw new InputValidationException("model",
        $"'{model.Name}' v{model.VersionText} is an ONNX model: /predict takes a feature view's named inputs; use POST /v2/models/{model.Name}/infer");
}
