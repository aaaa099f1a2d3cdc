namespace Strata.Contracts.Events;

/// <summary>Subscribes a handler to a topic under a consumer group: each group gets every event of the topic.</summary>
public interface IEventSubscriber
{
    /// <returns>Disposing the result ends the subscription.</returns>
    IDisposable Subscribe(string topic, string group, Func<ReceivedEvent, CancellationToken, Task> handler);
}
