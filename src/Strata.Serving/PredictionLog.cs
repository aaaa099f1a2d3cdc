using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts.Events;
using Strata.Serving.Models;

namespace Strata.Serving;

/// <summary>The prediction log: a sampled share of predictions (<see cref="ServingOptions.PredictionLogSampleRate"/>) is
/// queued without ever waiting and published as <c>prediction.made</c> in the background. The request thread only queues
/// the arrays it already has; naming them and building the event happen on the publisher. When the queue is full the
/// record is dropped and counted rather than slowing the response.</summary>
public sealed partial class PredictionLog(IOptions<ServingOptions> options, IEventPublisher events, TimeProvider time, ILogger<PredictionLog> logger)
    : BackgroundService
{
    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(options.Value.PredictionLogCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private const int MaxBatch = 256;
    private long _dropped;
    private long _published;
    private long _batches;

    public long Dropped => Interlocked.Read(ref _dropped);

    public long Published => Interlocked.Read(ref _published);

    /// <summary>Batches published (each one append to the bus).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Samples and queues one prediction (every one a traffic policy routed); never blocks.</summary>
    public void Record(MlNetModel model, double[] inputs, double[] features, double prediction, long startedTimestamp, string? traceId,
        PredictionContext context = default, int row = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (context.Routed || Sampled())
        {
            Queue(new RowRecord(model, inputs, features, prediction, Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds, traceId, time.GetUtcNow(),
                context, row));
        }
    }

    /// <summary>Queues a <c>prediction.failed</c> for a request a traffic policy routed to <paramref name="model"/> that got
    /// no prediction (<paramref name="status"/> answered); never blocks.</summary>
    public void RecordFailure(ServableModel model, PredictionContext context, int status, string reason, long startedTimestamp)
    {
        ArgumentNullException.ThrowIfNull(model);
        ServingMetrics.Failed(model, status);
        Queue(new FailureRecord(new PredictionFailedEvent(model.Name, model.VersionText, context.Arm, context.PolicyVersion, context.RequestId ?? "",
            status, reason.Length > 500 ? reason[..500] : reason, Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds, time.GetUtcNow())));
    }

    /// <summary>Samples and queues each row of a tensor request (any runtime); never blocks. The record is named on the
    /// publisher: inputs by name (<c>name[i]</c> for a row of several elements; BYTES are left out), the features the
    /// model used (an ML.NET model's view computed again from the inputs, the inputs themselves for ONNX), and the first
    /// element of the row's primary output (or the first numeric output).</summary>
    public void Record(ServableModel model, Tensor[] inputs, Tensor[] outputs, long startedTimestamp, string? traceId, PredictionContext context = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        var rows = ServableModel.RowsOf(inputs);
        var latency = Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds;
        var now = time.GetUtcNow();
        for (var r = 0; r < rows; r++)
        {
            if (context.Routed || Sampled())
            {
                Queue(new TensorRecord(model, inputs, outputs, r, latency, traceId, now, context));
            }
        }
    }

    private bool Sampled()
    {
        var rate = options.Value.PredictionLogSampleRate;
        return rate > 0 && (rate >= 1 || Random.Shared.NextDouble() < rate);
    }

    private void Queue(Pending pending)
    {
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Whatever has queued up by the end of the linger is published as one batch (one append and one broker round
            // trip for many records, and one audit commit on the consuming side).
            var batch = new List<KeyValuePair<string, PredictionMadeEvent>>(MaxBatch);
            var failures = new List<KeyValuePair<string, PredictionFailedEvent>>();
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                var linger = options.Value.PredictionLogLinger;
                if (linger > TimeSpan.Zero && _queue.Reader.Count < MaxBatch)
                {
                    await Task.Delay(linger, time, stoppingToken);
                }
                batch.Clear();
                failures.Clear();
                while (batch.Count + failures.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
                {
                    // A record that cannot be built is logged and skipped: the log never stops.
                    try
                    {
                        if (pending is FailureRecord failure)
                        {
                            failures.Add(new($"{failure.Event.Model}/{failure.Event.ModelVersion}", failure.Event));
                        }
                        else if (pending.ToEvent() is { } record)
                        {
                            batch.Add(new($"{record.Model}/{record.ModelVersion}", record));
                        }
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        LogPublishFailed(logger, e.Message);
                    }
                }
                try
                {
                    if (failures.Count > 0)
                    {
                        await events.PublishBatchAsync(EventTopics.PredictionFailed, failures, stoppingToken);
                    }
                    if (batch.Count == 0)
                    {
                        continue;
                    }
                    await events.PublishBatchAsync(EventTopics.PredictionMade, batch, stoppingToken);
                    Interlocked.Add(ref _published, batch.Count);
                    Interlocked.Increment(ref _batches);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogPublishFailed(logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static Dictionary<string, double> Named(IReadOnlyList<Strata.Contracts.Features.FeatureField> fields, double[] values)
    {
        // The feature-aware path has no request inputs (the features came from the store): fewer values than fields.
        var named = new Dictionary<string, double>(fields.Count, StringComparer.Ordinal);
        for (var i = 0; i < Math.Min(fields.Count, values.Length); i++)
        {
            named[fields[i].Name] = values[i];
        }
        return named;
    }

    /// <summary>What the request thread hands over: references it already holds, nothing built.</summary>
    private abstract record Pending
    {
        /// <summary>The event, or null when the row has nothing numeric to report.</summary>
        public abstract PredictionMadeEvent? ToEvent();
    }

    private sealed record RowRecord(MlNetModel Model, double[] Inputs, double[] Features, double Prediction, double LatencyMs, string? TraceId,
        DateTimeOffset Time, PredictionContext Context, int Row) : Pending
    {
        public override PredictionMadeEvent ToEvent() => new(Model.Version.Model, Model.VersionText,
            Named(Model.View.Inputs, Inputs), Named(Model.View.Features, Features), Prediction, LatencyMs, TraceId, Time,
            Context.RequestId, Context.RequestId is null ? null : Row, Context.Arm, Context.PolicyVersion);
    }

    private sealed record FailureRecord(PredictionFailedEvent Event) : Pending
    {
        public override PredictionMadeEvent? ToEvent() => null;
    }

    private sealed record TensorRecord(ServableModel Model, Tensor[] Inputs, Tensor[] Outputs, long Row, double LatencyMs, string? TraceId,
        DateTimeOffset Time, PredictionContext Context) : Pending
    {
        public override PredictionMadeEvent? ToEvent()
        {
            var output = Outputs.FirstOrDefault(o => o.Name == Model.PrimaryOutput && o.Data is not string[])
                ?? Outputs.FirstOrDefault(o => o.Data is not string[]);
            if (output is null || RowValues(output, Row) is not { Length: > 0 } predicted || !double.IsFinite(predicted[0]))
            {
                return null;
            }
            var inputs = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var input in Inputs.Where(i => i.Data is not string[]))
            {
                var values = RowValues(input, Row);
                for (var i = 0; i < values.Length; i++)
                {
                    if (double.IsFinite(values[i]))
                    {
                        inputs[values.Length == 1 ? input.Name : string.Create(CultureInfo.InvariantCulture, $"{input.Name}[{i}]")] = values[i];
                    }
                }
            }
            var features = inputs;
            if (Model is MlNetModel mlnet)
            {
                var row = Inputs.Select(i => RowValues(i, Row)[0]).ToArray();
                features = Named(mlnet.View.Features, mlnet.Features.Compute(row));
            }
            return new PredictionMadeEvent(Model.Name, Model.VersionText, inputs, features, predicted[0], LatencyMs, TraceId, Time,
                Context.RequestId, Context.RequestId is null ? null : (int)Row, Context.Arm, Context.PolicyVersion);
        }

        private static double[] RowValues(Tensor tensor, long row)
        {
            var perRow = tensor.Shape.Length <= 1 ? 1 : (int)Tensor.ElementCount(tensor.Shape.AsSpan(1));
            var slice = Array.CreateInstance(tensor.Data.GetType().GetElementType()!, perRow);
            Array.Copy(tensor.Data, row * perRow, slice, 0, perRow);
            return TensorDatatype.ToDoubles(slice);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A prediction.made or prediction.failed event could not be published: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, string reason);
}

/// <summary>Who asked and how the version was chosen: the request id feedback joins on (with the row of a batch); under a
/// traffic policy the arm and the policy version, and then the prediction is logged whatever the sample rate.</summary>
public readonly record struct PredictionContext(string? RequestId, string? Arm = null, int? PolicyVersion = null)
{
    public bool Routed => Arm is not null;

    /// <summary>The context of a request answered by <paramref name="route"/> under <paramref name="policy"/> (or by the default alias).</summary>
    public static PredictionContext Of(Microsoft.AspNetCore.Http.HttpContext http, string? requestId, Traffic.RoutedPolicy? policy, Traffic.Route route) =>
        policy is null ? new(requestId) : new(RequestIds.ForRouted(http, requestId), route.Arm, policy.Version.Version);
}
