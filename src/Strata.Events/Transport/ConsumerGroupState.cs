namespace Strata.Events.Transport;

/// <summary>Where a consumer group is on a topic: messages not yet delivered (<paramref name="Pending"/>), delivered (or
/// prefetched by a member) and not yet acknowledged (<paramref name="InFlight"/>); their sum is the group's lag. And
/// deliveries that were repeats.</summary>
public sealed record ConsumerGroupState(string Topic, string Group, long Pending, long InFlight, long Redelivered);
