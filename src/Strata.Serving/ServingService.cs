using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Serving;
using Strata.Serving.Models;

namespace Strata.Serving;

/// <summary>The Serving module in process (<see cref="IServingClient"/>): request inputs go through the model's
/// compiled feature view (fetched from the Features module when the model loads) and then the model, with no
/// network hop per request in either topology. Tensor requests (KServe V1, Open Inference Protocol) of any runtime go
/// through <see cref="InferAsync"/>, micro-batched when <see cref="ServingOptions.MaxBatchSize"/> is above 1.</summary>
public sealed class ServingService(ModelHost host, PredictionLog log, IOptions<ServingOptions> options, IEventPublisher events, TimeProvider time)
    : IServingClient
{
    private readonly ConditionalWeakTable<ServableModel, MicroBatcher> _batchers = [];

    /// <summary>Scores inputs already in the order of the model's view inputs, and records it in the prediction log.</summary>
    public PredictionResult Predict(MlNetModel model, double[] inputs, long startedTimestamp, string? traceId, PredictionContext context = default, int row = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        var features = model.Features.Compute(inputs);
        var prediction = model.Score(features);
        ServingMetrics.Scored(model, prediction, startedTimestamp);
        log.Record(model, inputs, features, prediction, startedTimestamp, traceId, context, row);
        return new PredictionResult(prediction, model.VersionText);
    }

    /// <summary>Scores a feature vector assembled by the feature store (the feature-aware path), and records it.</summary>
    public PredictionResult PredictFeatures(MlNetModel model, double[] features, long startedTimestamp, string? traceId, PredictionContext context = default,
        int row = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        var prediction = model.Score(features);
        ServingMetrics.Scored(model, prediction, startedTimestamp);
        log.Record(model, [], features, prediction, startedTimestamp, traceId, context, row);
        return new PredictionResult(prediction, model.VersionText);
    }

    /// <summary>Scores bound tensors (micro-batched when on and the model allows it), records each row in the prediction
    /// log, and returns the outputs asked for (all when none are named), in that order.</summary>
    public async ValueTask<Tensor[]> InferAsync(ServableModel model, Tensor[] inputs, IReadOnlyList<string> outputs, long startedTimestamp, string? traceId,
        PredictionContext context = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(outputs);
        // The log reports the primary output, so it is computed with the ones asked for (a batch computes them all).
        IReadOnlyList<string> computed = outputs.Count == 0 || outputs.Contains(model.PrimaryOutput) ? outputs : [.. outputs, model.PrimaryOutput];
        var scored = BatcherFor(model) is { } batcher ? await batcher.InferAsync(inputs) : model.Infer(inputs, computed);
        ServingMetrics.Scored(model, scored, ServableModel.RowsOf(inputs), startedTimestamp);
        log.Record(model, inputs, scored, startedTimestamp, traceId, context);
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

    /// <summary>The most outcomes one feedback post may carry.</summary>
    public const int MaxFeedback = 10_000;

    /// <summary>How far in the future an outcome's time may be (clocks disagree a little, not by days).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public Task<FeedbackAccepted> RecordFeedbackAsync(IReadOnlyList<PredictionFeedback> feedback, CancellationToken cancellationToken = default) =>
        RecordFeedbackAsync(feedback, null, cancellationToken);

    /// <summary>Checks every outcome, then publishes them all as <c>prediction.feedback</c> (keyed by request id): one
    /// bad item refuses the post, naming it; nothing is published unless every item is good.</summary>
    public async Task<FeedbackAccepted> RecordFeedbackAsync(IReadOnlyList<PredictionFeedback> feedback, string? source, CancellationToken cancellationToken)
    {
        if (feedback is null || feedback.Count == 0)
        {
            throw new InputValidationException("body", "send one outcome or a non-empty array of them");
        }
        if (feedback.Count > MaxFeedback)
        {
            throw new InputValidationException("body", $"holds {feedback.Count} outcomes; at most {MaxFeedback} per post");
        }
        var now = time.GetUtcNow();
        var records = new List<KeyValuePair<string, PredictionFeedbackEvent>>(feedback.Count);
        for (var i = 0; i < feedback.Count; i++)
        {
            var item = feedback[i];
            var at = feedback.Count == 1 ? string.Empty : $"[{i}].";
            if (item is null)
            {
                throw new InputValidationException(feedback.Count == 1 ? "body" : $"[{i}]", "must be an object");
            }
            if (!RequestIds.IsValid(item.RequestId))
            {
                throw new InputValidationException(at + "request_id", $"is required: the X-Request-Id the prediction was answered with (1 to {RequestIds.MaxLength} visible ASCII characters)");
            }
            if (item.Row is < 0 or > Contracts.Features.InputRowReader.MaxRows)
            {
                throw new InputValidationException(at + "row", $"must be a row of the batch, 0 to {Contracts.Features.InputRowReader.MaxRows}");
            }
            if (item.Label is null && item.Value is null)
            {
                throw new InputValidationException(at + "label", "a label or a value is required (the outcome)");
            }
            if (item.Label is { } label && !double.IsFinite(label))
            {
                throw new InputValidationException(at + "label", "must be a finite number");
            }
            if (item.Value is { } value && !double.IsFinite(value))
            {
                throw new InputValidationException(at + "value", "must be a finite number");
            }
            if (item.Time > now + MaxClockSkew)
            {
                throw new InputValidationException(at + "time", $"is in the future ({item.Time:O}; now {now:O})");
            }
            records.Add(new(item.RequestId!, new PredictionFeedbackEvent(item.RequestId!, item.Row ?? 0, item.Label, item.Value, item.Time ?? now, source)));
        }
        await events.PublishBatchAsync(EventTopics.PredictionFeedback, records, cancellationToken);
        return new FeedbackAccepted(records.Count);
    }

    /// <summary>Reports a request a traffic policy routed that got no prediction (<c>prediction.failed</c>).</summary>
    public void Failed(ServableModel model, PredictionContext context, Exception error, long startedTimestamp)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (context.Routed)
        {
            log.RecordFailure(model, context, StatusOf(error), error.Message, startedTimestamp);
        }
    }

    /// <summary>The status an error of a scoring request is answered with.</summary>
    public static int StatusOf(Exception error) => error switch
    {
        Protocols.ProtocolException p => p.Status,
        InputValidationException => 400,
        ResourceNotFoundException => 404,
        ResourceConflictException => 409,
        RateLimitedException => 429,
        DependencyUnavailableException => 503,
        StorageFullException => 507,
        _ => 500,
    };

    /// <summary>The model <c>/predict</c> answers with (its default model, <see cref="ServingOptions.Model"/>).</summary>
    public string DefaultModel => host.Options.Model;

    /// <summary>A version <c>/predict</c> can answer with: an ML.NET model (named inputs of a feature view).</summary>
    public static MlNetModel ForPredict(ServableModel model) => model as MlNetModel ?? throw new InputValidationException("model",
        $"'{model.Name}' v{model.VersionText} is an ONNX model: /predict takes a feature view's named inputs; use POST /v2/models/{model.Name}/infer");
}
