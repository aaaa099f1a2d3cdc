using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Events;
using Strata.Events.Inbox;
using Strata.Events.Transport;

namespace Strata.Events;

/// <summary>The bus every module uses: CloudEvents envelopes over whichever broker (<see cref="IEventTransport"/>)
/// is configured. Publishing returns once the broker stored the event. Each subscription is a group member that
/// fetches up to <see cref="SubscriptionOptions.MaxInFlight"/> events, skips those its group already handled (inbox),
/// hands the rest to the handler (in order per key), retries failures with exponential backoff and jitter, sends
/// what still fails to <see cref="EventTopics.DeadLetter"/>, then records and acknowledges the batch.</summary>
public sealed partial class EventBus(IEventTransport transport, CloudEventCodec codec, IInbox inbox, ILogger<EventBus> logger)
    : IEventPublisher, IEventSubscriber, IAsyncDisposable
{
    private static int _consumerSequence;
    private readonly ConcurrentDictionary<EventSubscription, byte> _subscriptions = new();
    private readonly string _consumerPrefix = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
    private int _disposed;

    public IEventTransport Transport => transport;

    internal ILogger Logger => logger;

    internal CloudEventCodec Codec => codec;

    internal IInbox Inbox => inbox;

    public ValueTask PublishAsync<T>(string topic, string subject, T data, CancellationToken cancellationToken = default) =>
        PublishBatchAsync(topic, [new KeyValuePair<string, T>(subject, data)], cancellationToken);

    public async ValueTask PublishBatchAsync<T>(string topic, IReadOnlyList<KeyValuePair<string, T>> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }
        // Every event belongs to a trace: the caller's, a span of ours when something listens, else a new one.
        using var activity = EventMetrics.ActivitySource.StartActivity($"publish {topic}", System.Diagnostics.ActivityKind.Producer)
            ?? (System.Diagnostics.Activity.Current is null ? new System.Diagnostics.Activity($"publish {topic}").Start() : null);
        var messages = new OutgoingMessage[events.Count];
        for (var i = 0; i < messages.Length; i++)
        {
            var body = codec.Encode(topic, events[i].Key, events[i].Value, out var id);
            messages[i] = new OutgoingMessage(id, events[i].Key, body);
        }
        await transport.PublishAsync(topic, messages, cancellationToken);
        EventMetrics.Published.Add(messages.Length, new KeyValuePair<string, object?>("topic", topic));
    }

    /// <summary>Publishes already-encoded envelopes (an outbox relay, a re-driven dead letter, a replay), keeping
    /// their ids; <paramref name="targetGroup"/> limits handling to one consumer group.</summary>
    public async ValueTask PublishEnvelopesAsync(string topic, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
    {
        await transport.PublishAsync(topic, messages, cancellationToken);
        EventMetrics.Published.Add(messages.Count, new KeyValuePair<string, object?>("topic", topic));
    }

    public async Task<IAsyncDisposable> SubscribeAsync(string topic, string group, Func<ReceivedEvent, CancellationToken, Task> handler,
        SubscriptionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed == 1, this);
        options ??= new SubscriptionOptions();
        return await StartAsync(topic, group, handler, null, options, cancellationToken);
    }

    private async Task<IAsyncDisposable> StartAsync(string topic, string group, Func<ReceivedEvent, CancellationToken, Task> handler,
        Func<IReadOnlyList<ReceivedEvent>, CancellationToken, Task>? batchHandler, SubscriptionOptions options, CancellationToken cancellationToken)
    {
        var name = $"{_consumerPrefix}-{Interlocked.Increment(ref _consumerSequence)}";
        var settings = new ConsumerSettings(name, options.AckWait, options.MaxInFlight) { FromStart = options.FromStart };
        ValueTask<IEventConsumer> Join(CancellationToken ct) => transport.OpenConsumerAsync(topic, group, settings, ct);
        IEventConsumer? consumer = null;
        try
        {
            consumer = await Join(cancellationToken);
        }
        catch (Exception e) when (e is not (ArgumentException or OperationCanceledException or ObjectDisposedException))
        {
            // The broker is not there yet: the member joins in the background as soon as it is.
            LogConsumerTrouble(logger, name, topic, group, "cannot join yet: " + e.Message);
        }
        var subscription = new EventSubscription(this, consumer, Join, topic, group, name, handler, batchHandler, options);
        _subscriptions[subscription] = 0;
        subscription.Start();
        return subscription;
    }

    public async Task<IAsyncDisposable> SubscribeBatchAsync(string topic, string group, Func<IReadOnlyList<ReceivedEvent>, CancellationToken, Task> handler,
        SubscriptionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(_disposed == 1, this);
        options ??= new SubscriptionOptions();
        return await StartAsync(topic, group, (e, ct) => handler([e], ct), handler, options, cancellationToken);
    }

    internal void Forget(EventSubscription subscription) => _subscriptions.TryRemove(subscription, out _);

    /// <summary>Counters of this process's subscriptions.</summary>
    public IReadOnlyList<SubscriptionStats> Subscriptions() => [.. _subscriptions.Keys.Select(s => s.Stats())];

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        foreach (var subscription in _subscriptions.Keys.ToList())
        {
            await subscription.DisposeAsync();
        }
        await transport.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Event {Id} on {Topic} failed {Attempts} times in group {Group}; dead-lettered")]
    internal static partial void LogDead(ILogger logger, string topic, string group, string id, int attempts, Exception? exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer} of {Topic} in group {Group}: {Reason}; retrying")]
    internal static partial void LogConsumerTrouble(ILogger logger, string consumer, string topic, string group, string reason);
}
