namespace Strata.Contracts.Events;

/// <summary>A module's outbox: events written in the same transaction as the module's own change, waiting to be
/// published. The relay publishes them in order and then removes them; a crash in between publishes them again with
/// the same ids, which the broker's dedup and the consumers' inbox absorb.</summary>
public interface IOutboxStore
{
    /// <summary>The oldest waiting events, in the order they were written.</summary>
    Task<IReadOnlyList<EncodedEvent>> PendingOutboxAsync(int max, CancellationToken cancellationToken);

    Task RemoveOutboxAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken);
}
