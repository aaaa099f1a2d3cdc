using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts.Events;

namespace Strata.Events.Audit;

/// <summary>Appends every event of every platform topic to the <see cref="AuditStore"/> (consumer group
/// <see cref="ConsumerGroup"/>), and deletes what is older than the retention every ten minutes. Runs in the process
/// that hosts the Events module.</summary>
public sealed partial class AuditRecorder(AuditStore store, IEventSubscriber subscriber, IOptions<EventsOptions> options, TimeProvider time,
    ILogger<AuditRecorder> logger) : BackgroundService
{
    public const string ConsumerGroup = "audit";
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once every topic is subscribed (events published after that are all recorded).</summary>
    public Task Subscribed => _subscribed.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscriptions = new List<IAsyncDisposable>();
        try
        {
            foreach (var topic in EventTopics.All)
            {
                subscriptions.Add(await SubscribeAsync(topic, stoppingToken));
            }
            _subscribed.TrySetResult();
            using var timer = new PeriodicTimer(TimeSpan.FromMinutes(10), time);
            do
            {
                var removed = store.Prune(time.GetUtcNow() - options.Value.Retention);
                if (removed > 0)
                {
                    LogPruned(logger, removed);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _subscribed.TrySetCanceled(CancellationToken.None);
            foreach (var subscription in subscriptions)
            {
                await subscription.DisposeAsync();
            }
        }
    }

    private async Task<IAsyncDisposable> SubscribeAsync(string topic, CancellationToken stoppingToken)
    {
        // The broker may still be starting (a NATS or Redis server started beside this process): keep trying.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await subscriber.SubscribeAsync(topic, ConsumerGroup, (e, _) =>
                {
                    store.Append(e, e.Envelope);
                    return Task.CompletedTask;
                }, new SubscriptionOptions { MaxInFlight = 256, FromStart = true }, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException && attempt < 30)
            {
                LogSubscribeFailed(logger, topic, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit log: removed {Count} events past retention")]
    private static partial void LogPruned(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit log: cannot subscribe to {Topic} yet: {Reason}")]
    private static partial void LogSubscribeFailed(ILogger logger, string topic, string reason);
}
