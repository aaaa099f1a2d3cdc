namespace Strata.Events.Transport;

/// <summary>Where a consumer group is on a topic: messages not yet delivered (<paramref name="Pending"/>, the lag),
/// delivered and not yet acknowledged (<paramref name="InFlight"/>), and deliveries that were repeats.</summary>
public sealed record ConsumerGroupState(string Topic, string Group, long Pending, long InFlight, long Redelivered);
