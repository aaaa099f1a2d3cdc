using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Events;

namespace Strata.Events;

/// <summary>The bus of one process: every event is encoded as a CloudEvents envelope and handed to each consumer
/// group subscribed to its topic, through a bounded queue per group (a slow consumer slows publishers instead of
/// growing memory). Events published in one process reach subscribers in that process only, and are not kept across
/// restarts: the durable embedded log and the NATS/Redis brokers replace this behind the same interfaces.
/// A failing handler is retried with exponential backoff, then the event is logged as dead and the group goes on.</summary>
public sealed partial class InProcessEventBus(CloudEventCodec codec, ILogger<InProcessEventBus> logger) : IEventPublisher, IEventSubscriber, IAsyncDisposable
{
    public const int QueueCapacity = 1024;
    public const int MaxAttempts = 5;

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, Subscription>> _topics = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger = logger;
    private int _disposed;

    public async ValueTask PublishAsync<T>(string topic, string subject, T data, CancellationToken cancellationToken = default)
    {
        // Nothing is kept in process: an event nobody subscribes to is not even encoded.
        if (!_topics.TryGetValue(topic, out var groups) || groups.IsEmpty)
        {
            return;
        }
        var envelope = codec.Encode(topic, subject, data);
        foreach (var subscription in groups.Values)
        {
            await subscription.Queue.Writer.WriteAsync(envelope, cancellationToken);
        }
    }

    public IDisposable Subscribe(string topic, string group, Func<ReceivedEvent, CancellationToken, Task> handler)
    {
        var groups = _topics.GetOrAdd(topic, _ => new(StringComparer.Ordinal));
        var subscription = new Subscription(this, topic, group, handler);
        if (!groups.TryAdd(group, subscription))
        {
            throw new InvalidOperationException($"group '{group}' already consumes '{topic}' in this process");
        }
        subscription.Start();
        return subscription;
    }

    /// <summary>Idempotent: the container disposes this once for each interface it was resolved through.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stopping.CancelAsync();
        foreach (var subscription in _topics.Values.SelectMany(g => g.Values).ToList())
        {
            await subscription.StopAsync();
        }
        _stopping.Dispose();
    }

    private sealed class Subscription(InProcessEventBus bus, string topic, string group, Func<ReceivedEvent, CancellationToken, Task> handler) : IDisposable
    {
        private Task _pump = Task.CompletedTask;

        public Channel<ReadOnlyMemory<byte>> Queue { get; } = Channel.CreateBounded<ReadOnlyMemory<byte>>(
            new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        public void Start() => _pump = Task.Run(PumpAsync);

        private async Task PumpAsync()
        {
            var token = bus._stopping.Token;
            try
            {
                await foreach (var envelope in Queue.Reader.ReadAllAsync(token))
                {
                    var received = CloudEventCodec.Decode(envelope);
                    for (var attempt = 1; ; attempt++)
                    {
                        try
                        {
                            await handler(received, token);
                            break;
                        }
                        catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
                        {
                            if (attempt >= MaxAttempts)
                            {
                                LogDead(bus._logger, topic, group, received.Id, attempt, e);
                                break;
                            }
                            await Task.Delay(TimeSpan.FromMilliseconds(50 * Math.Pow(2, attempt - 1) * (0.5 + Random.Shared.NextDouble())), token);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
        }

        public async Task StopAsync()
        {
            Queue.Writer.TryComplete();
            await _pump;
        }

        public void Dispose()
        {
            if (bus._topics.TryGetValue(topic, out var groups))
            {
                groups.TryRemove(group, out _);
            }
            Queue.Writer.TryComplete();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Event {Id} on {Topic} failed {Attempts} times in group {Group}; dropped")]
    private static partial void LogDead(ILogger logger, string topic, string group, string id, int attempts, Exception exception);
}
