using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts.Events;
using Strata.Monitoring.Storage;

namespace Strata.Monitoring;

/// <summary>Records the prediction log (<c>prediction.made</c>: with a request id for outcomes to join, without one for
/// drift only), the failures of routed requests
/// (<c>prediction.failed</c>) and outcomes (<c>prediction.feedback</c>) as they are published, a fetched batch per
/// transaction; and deletes what is older than <see cref="MonitoringOptions.Retention"/> once an hour.</summary>
public sealed partial class OutcomeRecorder(SqlMonitoringStore store, IEventSubscriber events, IOptions<MonitoringOptions> options, TimeProvider time,
    ILogger<OutcomeRecorder> logger) : BackgroundService
{
    public const string ConsumerGroup = "monitoring-outcomes";

    private readonly List<IAsyncDisposable> _subscriptions = [];

    /// <summary>Subscribes before the host reports started, so a process that is ready is recording.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var batch = new SubscriptionOptions { MaxInFlight = 512, FromStart = true };
        _subscriptions.Add(await events.SubscribeBatchAsync(EventTopics.PredictionMade, ConsumerGroup,
            (received, ct) => store.AddPredictionsAsync([.. received.Select(e => (e.Id, Data: e.DataAs<PredictionMadeEvent>())).Where(e => e.Data is not null)
                .Select(e => (e.Id, e.Data!))], ct),
            batch, cancellationToken));
        _subscriptions.Add(await events.SubscribeBatchAsync(EventTopics.PredictionFailed, ConsumerGroup,
            (received, ct) => store.AddFailuresAsync([.. received.Select(e => e.DataAs<PredictionFailedEvent>()).OfType<PredictionFailedEvent>()], ct),
            batch, cancellationToken));
        _subscriptions.Add(await events.SubscribeBatchAsync(EventTopics.PredictionFeedback, ConsumerGroup,
            (received, ct) => store.AddOutcomesAsync([.. received.Select(e => e.DataAs<PredictionFeedbackEvent>()).OfType<PredictionFeedbackEvent>()], ct),
            batch, cancellationToken));
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var subscription in _subscriptions)
        {
            await subscription.DisposeAsync();
        }
        _subscriptions.Clear();
    }

    /// <summary>Retention, once an hour.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
            do
            {
                try
                {
                    var now = time.GetUtcNow();
                    var removed = await store.DeleteBeforeAsync(now - options.Value.Retention, stoppingToken, now - options.Value.DriftRetention);
                    if (removed > 0)
                    {
                        LogRetention(logger, removed, options.Value.Retention.TotalDays);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogRetentionFailed(logger, e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Monitoring retention: {Removed} records older than {Days} days removed")]
    private static partial void LogRetention(ILogger logger, int removed, double days);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Monitoring retention failed: {Reason}")]
    private static partial void LogRetentionFailed(ILogger logger, string reason);
}
