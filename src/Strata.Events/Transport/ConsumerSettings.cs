namespace Strata.Events.Transport;

/// <summary>How a group member consumes: its name (unique within the group; a restarted process may reuse it),
/// how long a fetched message stays leased before it is redelivered, and how many unacknowledged messages it may
/// hold at once (backpressure).</summary>
public sealed record ConsumerSettings(string ConsumerName, TimeSpan AckWait, int MaxAckPending)
{
    /// <summary>A group created by this member starts at the oldest retained message (else at the end of the topic).</summary>
    public bool FromStart { get; init; }

    public static ConsumerSettings Default(string consumerName) => new(consumerName, TimeSpan.FromSeconds(30), 256);
}
