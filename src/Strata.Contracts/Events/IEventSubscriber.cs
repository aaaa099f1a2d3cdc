namespace Strata.Contracts.Events;

/// <summary>Subscribes a handler to a topic as a member of a consumer group: every group gets every event of the
/// topic; members of one group (in this or other processes) share its events. A handler that throws is retried with
/// backoff; after the last attempt the event goes to the dead-letter topic and the group goes on. Events already
/// handled by the group (by id) are skipped, so a handler sees a redelivered event once.</summary>
public interface IEventSubscriber
{
    /// <returns>Disposing the result leaves the group (unfinished events go back to the other members).</returns>
    Task<IAsyncDisposable> SubscribeAsync(string topic, string group, Func<ReceivedEvent, CancellationToken, Task> handler,
        SubscriptionOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="SubscribeAsync"/>, but the handler gets the events of one fetch together (up to
    /// <see cref="SubscriptionOptions.MaxInFlight"/>, in order), and they are acknowledged only after it returns: for
    /// handlers that write a batch at once. When the batch keeps failing, each event is tried alone and only those that
    /// still fail are dead-lettered.</summary>
    Task<IAsyncDisposable> SubscribeBatchAsync(string topic, string group, Func<IReadOnlyList<ReceivedEvent>, CancellationToken, Task> handler,
        SubscriptionOptions? options = null, CancellationToken cancellationToken = default);
}
