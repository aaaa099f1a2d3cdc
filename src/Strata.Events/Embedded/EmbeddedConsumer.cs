using Strata.Events.Transport;

namespace Strata.Events.Embedded;

/// <summary>One member of a group on an <see cref="EmbeddedEventLog"/> topic. Disposing it hands its unacknowledged
/// messages back to the group at once (a member that dies without disposing loses its leases at the ack wait).</summary>
internal sealed class EmbeddedConsumer(TopicLog log, GroupCursor group, ConsumerSettings settings) : IEventConsumer
{
    private int _disposed;

    public async ValueTask<IReadOnlyList<Delivery>> FetchAsync(int max, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var deadline = log.Time.GetUtcNow() + wait;
        while (true)
        {
            Task changed;
            lock (log.Gate)
            {
                ObjectDisposedException.ThrowIf(_disposed == 1, this);
                var batch = group.Fetch(settings.ConsumerName, max, settings.AckWait, settings.MaxAckPending);
                if (batch.Count > 0)
                {
                    return batch;
                }
                changed = log.Changed;
            }
            var remaining = deadline - log.Time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                return [];
            }
            // Wake on any change (append, ack, release); also at least every 100 ms so expired leases are seen.
            var step = remaining < TimeSpan.FromMilliseconds(100) ? remaining : TimeSpan.FromMilliseconds(100);
            // Not a TimeoutException per idle step: at ten steps a second per group, they were most of what an idle
            // events process threw (6,932 in its first minute, read off dotnet_exceptions_total).
            await changed.WaitAsync(step, log.Time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    public ValueTask AckAsync(IReadOnlyList<Delivery> deliveries, CancellationToken cancellationToken = default)
    {
        lock (log.Gate)
        {
            group.Ack(deliveries.Select(d => d.Sequence));
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            lock (log.Gate)
            {
                group.Release(settings.ConsumerName);
            }
        }
        return ValueTask.CompletedTask;
    }
}
