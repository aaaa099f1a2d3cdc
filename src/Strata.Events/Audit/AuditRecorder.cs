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

    private readonly List<IAsyncDisposable> _subscriptions = [];

    /// <summary>Joins every topic before the host reports started (a ready process is recording, and every topic's log
    /// exists from then on), then prunes past retention in the background.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Every platform topic, and the topics of your own that take events from outside.
        foreach (var topic in EventTopics.All.Union(options.Value.Ingress.OpenTopics, StringComparer.Ordinal))
        {
            _subscriptions.Add(await SubscribeAsync(topic, cancellationToken));
        }
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
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
    }

    /// <summary>What one fetch delivered is written in one commit (redelivered events are ignored by id, so a batch
    /// written twice changes nothing). A broker that is not up yet is joined in the background by the bus.</summary>
    private Task<IAsyncDisposable> SubscribeAsync(string topic, CancellationToken stoppingToken) =>
        subscriber.SubscribeBatchAsync(topic, ConsumerGroup, (events, _) =>
        {
            store.AppendAll(events);
            return Task.CompletedTask;
        }, new SubscriptionOptions { MaxInFlight = 256, FromStart = true }, stoppingToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit log: removed {Count} events past retention")]
    private static partial void LogPruned(ILogger logger, int count);

}
