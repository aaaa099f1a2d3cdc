using System.Collections.Concurrent;
using Strata.Events.Embedded;
using Strata.Events.Transport;

namespace Strata.Events.Http;

/// <summary>The embedded log's group members that live in other processes, by (topic, group, consumer name): created
/// at their first fetch, dropped on release or after <see cref="IdleTimeout"/> without a call (their leases then
/// return to the group, as when a process dies).</summary>
public sealed class BrokerSessions(EmbeddedEventLog log, TimeProvider time) : IAsyncDisposable
{
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(2);
    private readonly ConcurrentDictionary<(string Topic, string Group, string Consumer), Session> _sessions = new();

    public EmbeddedEventLog Log => log;

    public async ValueTask<IEventConsumer> GetAsync(string topic, string group, ConsumerSettings settings, CancellationToken cancellationToken)
    {
        var key = (topic, group, settings.ConsumerName);
        if (!_sessions.TryGetValue(key, out var session))
        {
            await SweepAsync();
            var consumer = await log.OpenConsumerAsync(topic, group, settings, cancellationToken);
            session = new Session(consumer);
            if (!_sessions.TryAdd(key, session))
            {
                await consumer.DisposeAsync();
                session = _sessions[key];
            }
        }
        session.LastUsed = time.GetUtcNow();
        return session.Consumer;
    }

    public IEventConsumer? Find(string topic, string group, string consumer)
    {
        if (_sessions.TryGetValue((topic, group, consumer), out var session))
        {
            session.LastUsed = time.GetUtcNow();
            return session.Consumer;
        }
        return null;
    }

    public async ValueTask ReleaseAsync(string topic, string group, string consumer)
    {
        if (_sessions.TryRemove((topic, group, consumer), out var session))
        {
            await session.Consumer.DisposeAsync();
        }
    }

    private async ValueTask SweepAsync()
    {
        var cutoff = time.GetUtcNow() - IdleTimeout;
        foreach (var (key, session) in _sessions)
        {
            if (session.LastUsed < cutoff && _sessions.TryRemove(key, out _))
            {
                await session.Consumer.DisposeAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var key in _sessions.Keys.ToList())
        {
            if (_sessions.TryRemove(key, out var session))
            {
                await session.Consumer.DisposeAsync();
            }
        }
    }

    private sealed class Session(IEventConsumer consumer)
    {
        public IEventConsumer Consumer { get; } = consumer;

        public DateTimeOffset LastUsed { get; set; }
    }
}
