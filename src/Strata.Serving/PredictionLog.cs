using System.Diagnostics;
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
    private long _dropped;
    private long _published;

    public long Dropped => Interlocked.Read(ref _dropped);

    public long Published => Interlocked.Read(ref _published);

    /// <summary>Samples and queues one prediction; never blocks.</summary>
    public void Record(LoadedModel model, double[] inputs, double[] features, double prediction, long startedTimestamp, string? traceId)
    {
        ArgumentNullException.ThrowIfNull(model);
        var rate = options.Value.PredictionLogSampleRate;
        if (rate <= 0 || (rate < 1 && Random.Shared.NextDouble() >= rate))
        {
            return;
        }
        var pending = new Pending(model, inputs, features, prediction,
            Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds, traceId, time.GetUtcNow());
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var pending in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                // One record that cannot be built or published is logged and skipped: the log never stops.
                try
                {
                    var record = pending.ToEvent();
                    await events.PublishAsync(EventTopics.PredictionMade, $"{record.Model}/{record.ModelVersion}", record, stoppingToken);
                    Interlocked.Increment(ref _published);
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
    private sealed record Pending(LoadedModel Model, double[] Inputs, double[] Features, double Prediction, double LatencyMs, string? TraceId, DateTimeOffset Time)
    {
        public PredictionMadeEvent ToEvent() => new(Model.Version.Model, Model.VersionText,
            Named(Model.View.Inputs, Inputs), Named(Model.View.Features, Features), Prediction, LatencyMs, TraceId, Time);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A prediction.made event could not be published: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, string reason);
}
