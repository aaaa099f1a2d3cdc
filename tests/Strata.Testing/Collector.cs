using System.Collections.Concurrent;
using Strata.Contracts.Events;

namespace Strata.Testing;

/// <summary>Collects what a handler received and waits for a count.</summary>
public sealed class Collector
{
    private readonly ConcurrentQueue<ReceivedEvent> _events = new();
    private readonly SemaphoreSlim _arrived = new(0);

    public IReadOnlyList<ReceivedEvent> Events => [.. _events];

    public Task Handle(ReceivedEvent e, CancellationToken cancellationToken)
    {
        _events.Enqueue(e);
        _arrived.Release();
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<ReceivedEvent>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (_events.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left))
            {
                throw new TimeoutException($"received {_events.Count} of {count} events");
            }
        }
        return Events;
    }
}
