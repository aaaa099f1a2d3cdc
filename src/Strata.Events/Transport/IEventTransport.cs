namespace Strata.Events.Transport;

/// <summary>A broker as the bus needs it: an append-only log per topic, consumed by named consumer groups whose
/// members compete for the group's messages and acknowledge each one. The shape maps directly onto Kafka (topic,
/// partition key, group offsets), NATS JetStream (stream, durable pull consumer, explicit ack) and Redis Streams
/// (XADD, XREADGROUP, XACK). Delivery is at-least-once: a message fetched and not acknowledged within the ack wait
/// (or whose consumer is gone) is delivered again, to any member of the group.</summary>
public interface IEventTransport : IAsyncDisposable
{
    /// <summary>The backend's name (<c>embedded</c>, <c>nats</c>, <c>redis</c>, <c>http</c>).</summary>
    string Name { get; }

    /// <summary>Appends the messages to the topic in order and returns once the broker has accepted (stored) all of
    /// them. A message whose <see cref="OutgoingMessage.Id"/> was accepted within the dedup window is not stored twice
    /// (a transport need not remember a <see cref="OutgoingMessage.FreshId"/> one: it cannot come again).</summary>
    ValueTask PublishAsync(string topic, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default);

    /// <summary>True when a publish started before an earlier one to the same topic has completed is still stored after
    /// it (the calls reach the broker in call order, over one ordered connection, and it applies them in that order).
    /// The bus then overlaps encoding the next part of a large batch with the broker storing the previous one.</summary>
    bool KeepsOrderOfOverlappingPublishes => false;

    /// <summary>Joins the consumer group as one member. A group created now starts at the end of the topic (it receives
    /// messages published from now on), or at the oldest retained message with <see cref="ConsumerSettings.FromStart"/>;
    /// an existing group resumes where it was.</summary>
    ValueTask<IEventConsumer> OpenConsumerAsync(string topic, string group, ConsumerSettings settings, CancellationToken cancellationToken = default);

    /// <summary>Lag and redelivery counts of every group this broker knows for the topic.</summary>
    ValueTask<IReadOnlyList<ConsumerGroupState>> DescribeAsync(string topic, CancellationToken cancellationToken = default);
}
