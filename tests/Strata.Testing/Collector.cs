using System.Collections.Concurrent;
using Strata.Contracts.Events;

namespace Strata.Testing;

/// <summary>Collects what a handler received and waits for a count. To see that nothing more arrives, a test
/// publishes a sentinel on each key it used and waits for them (<see cref="SettleAsync"/>): events of one key are
/// handled in order, so whatever could still come on those keys came before its sentinel. No sleeping.</summary>
public sealed class Collector
{
    private const string SentinelProperty = "sentinel";
    private readonly ConcurrentQueue<ReceivedEvent> _events = new();
    private readonly ConcurrentDictionary<string, byte> _sentinels = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _arrived = new(0);

    /// <summary>What the handler received, sentinels left out.</summary>
    public IReadOnlyList<ReceivedEvent> Events => [.. _events];

    public Task Handle(ReceivedEvent e, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Data.ValueKind == System.Text.Json.JsonValueKind.Object && e.Data.TryGetProperty(SentinelProperty, out var sentinel))
        {
            _sentinels[sentinel.GetString()!] = 0;
        }
        else
        {
            _events.Enqueue(e);
        }
        _arrived.Release();
        return Task.CompletedTask;
    }

    /// <summary>Publishes a sentinel on each of <paramref name="keys"/> and waits until every one arrived: by then
    /// everything published before on those keys (and any repeat of it) has been handled.</summary>
    public async Task SettleAsync(IEventPublisher publisher, string topic, params string[] keys)
    {
        ArgumentNullException.ThrowIfNull(publisher);
        var ids = keys.Distinct().ToDictionary(k => k, _ => Guid.NewGuid().ToString("N"));
        foreach (var (key, id) in ids)
        {
            await publisher.PublishAsync(topic, key, new Dictionary<string, string> { [SentinelProperty] = id });
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!ids.Values.All(_sentinels.ContainsKey))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left))
            {
                throw new TimeoutException($"{ids.Values.Count(_sentinels.ContainsKey)} of {ids.Count} sentinels arrived");
            }
        }
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
