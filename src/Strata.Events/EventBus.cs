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

    /// <summary>The bus's clock (the codec's: event times, retry delays, dead letters' times).</summary>
    internal TimeProvider Time => codec.Time;

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
        if (events.Count <= PipelinedPart || !transport.KeepsOrderOfOverlappingPublishes)
        {
            await transport.PublishAsync(topic, Encode(topic, events, 0, events.Count), cancellationToken);
        }
        else
        {
            // A large batch goes in parts of PipelinedPart, each sent as soon as it is encoded: the next part is encoded
            // while the broker stores the previous one (one part in flight). Order holds (the transport keeps the order
            // of overlapping publishes), dedup holds across parts (a part is stored before the next is looked at), and
            // the call still returns only when every part is stored. A failed part fails the call with the parts before
            // it stored: a retry of the call publishes those again under new ids, as after any publish whose outcome was
            // not acknowledged (at-least-once); the outbox, which keeps its events' ids, publishes envelopes whole.
            Task? inFlight = null;
            try
            {
                for (var start = 0; start < events.Count; start += PipelinedPart)
                {
                    var part = transport.PublishAsync(topic, Encode(topic, events, start, Math.Min(PipelinedPart, events.Count - start)), cancellationToken).AsTask();
                    var previous = inFlight;
                    inFlight = part;
                    if (previous is not null)
                    {
                        await previous;
                    }
                }
                await inFlight!;
            }
            catch when (inFlight is not null)
            {
                // The part sent last is waited for (and its own failure observed) before the first failure surfaces.
                await ((Task)inFlight).ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw;
            }
        }
        EventMetrics.Published.Add(events.Count, new KeyValuePair<string, object?>("topic", topic));
    }

    /// <summary>Parts a large batch is published in when the transport allows overlapping them.</summary>
    internal const int PipelinedPart = 100;

    private OutgoingMessage[] Encode<T>(string topic, IReadOnlyList<KeyValuePair<string, T>> events, int start, int count)
    {
        var messages = new OutgoingMessage[count];
        for (var i = 0; i < count; i++)
        {
            var body = codec.Encode(topic, events[start + i].Key, events[start + i].Value, out var id);
            messages[i] = new OutgoingMessage(id, events[start + i].Key, body) { FreshId = true };
        }
        return messages;
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
