namespace Strata.Events.Transport;

/// <summary>One member of a consumer group on one topic.</summary>
public interface IEventConsumer : IAsyncDisposable
{
    /// <summary>Up to <paramref name="max"/> messages for this member, waiting up to <paramref name="wait"/> for the
    /// first one; empty when none arrived. Messages stay leased to this member until acknowledged or the ack wait ends.</summary>
    ValueTask<IReadOnlyList<Delivery>> FetchAsync(int max, TimeSpan wait, CancellationToken cancellationToken = default);

    /// <summary>Marks the messages done for the group: they are not delivered to it again.</summary>
    ValueTask AckAsync(IReadOnlyList<Delivery> deliveries, CancellationToken cancellationToken = default);
}
