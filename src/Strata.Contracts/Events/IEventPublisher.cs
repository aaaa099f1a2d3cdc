namespace Strata.Contracts.Events;

/// <summary>Publishes domain events as CloudEvents 1.0 envelopes on a topic. Delivery guarantees are the bus's:
/// see the bus implementation in use.</summary>
public interface IEventPublisher
{
    /// <param name="topic">One of <see cref="EventTopics"/>.</param>
    /// <param name="subject">What the event is about (e.g. <c>seed/3</c>); also the ordering key.</param>
    /// <param name="data">The payload, serialized with Strata's JSON conventions.</param>
    ValueTask PublishAsync<T>(string topic, string subject, T data, CancellationToken cancellationToken = default);
}
