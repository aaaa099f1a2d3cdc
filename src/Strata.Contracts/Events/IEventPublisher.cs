namespace Strata.Contracts.Events;

/// <summary>Publishes domain events as CloudEvents 1.0 envelopes on a topic. Returns once the broker has stored the
/// event (at-least-once from there on). The subject is also the ordering key: events of one subject reach each
/// consumer group in the order they were published.</summary>
public interface IEventPublisher
{
    /// <param name="topic">One of <see cref="EventTopics"/> (or a module's own topic).</param>
    /// <param name="subject">What the event is about (e.g. <c>seed/3</c>); also the ordering key.</param>
    /// <param name="data">The payload, serialized with Strata's JSON conventions.</param>
    ValueTask PublishAsync<T>(string topic, string subject, T data, CancellationToken cancellationToken = default);

    /// <summary>Publishes several events of one topic as one batch (one broker round trip where the broker allows).</summary>
    ValueTask PublishBatchAsync<T>(string topic, IReadOnlyList<KeyValuePair<string, T>> events, CancellationToken cancellationToken = default);
}
