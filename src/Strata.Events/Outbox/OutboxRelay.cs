using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Events;
using Strata.Events.Transport;

namespace Strata.Events.Outbox;

/// <summary>Publishes what the outboxes of this process's modules hold (<see cref="IOutboxStore"/>), oldest first,
/// and removes each batch once the broker has stored it. Woken by <see cref="Notify"/> after a write, and every
/// <see cref="PollInterval"/> regardless; a broker that is down is retried with backoff, nothing is dropped.</summary>
/// <param name="lifetime">When given, relaying begins once the host has started: the modules create their tables (and
/// outboxes) in their hosted services' start, and a relay that read first found no outbox table on a fresh data
/// directory ("no such table: outbox", logged and retried at every first start).</param>
public sealed partial class OutboxRelay(IEnumerable<IOutboxStore> stores, EventBus bus, ILogger<OutboxRelay> logger, IHostApplicationLifetime? lifetime = null)
    : BackgroundService, IOutboxSignal
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    private const int BatchSize = 500;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private long _relayed;

    public long Relayed => Interlocked.Read(ref _relayed);

    public void Notify()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (lifetime is not null && !lifetime.ApplicationStarted.IsCancellationRequested)
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
            {
                try
                {
                    await started.Task;
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var more = false;
                foreach (var store in stores)
                {
                    more |= await RelayAsync(store, stoppingToken);
                }
                failures = 0;
                if (!more)
                {
                    await _wake.WaitAsync(PollInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                failures++;
                LogRelayFailed(logger, e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures, 6)))), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Publishes one batch of a store; true when it may hold more.</summary>
    public async Task<bool> RelayAsync(IOutboxStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var pending = await store.PendingOutboxAsync(BatchSize, cancellationToken);
        if (pending.Count == 0)
        {
            return false;
        }
        // Consecutive events of one topic go as one batch; the order of the outbox is kept.
        var start = 0;
        for (var i = 1; i <= pending.Count; i++)
        {
            if (i == pending.Count || pending[i].Topic != pending[start].Topic)
            {
                var run = pending.Skip(start).Take(i - start).Select(e => new OutgoingMessage(e.Id, e.Key, e.Envelope)).ToList();
                await bus.PublishEnvelopesAsync(pending[start].Topic, run, cancellationToken);
                start = i;
            }
        }
        await store.RemoveOutboxAsync([.. pending.Select(e => e.Id)], cancellationToken);
        Interlocked.Add(ref _relayed, pending.Count);
        return pending.Count == BatchSize;
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay: publishing failed, retrying: {Reason}")]
    private static partial void LogRelayFailed(ILogger logger, string reason);
}
