namespace Strata.Events.Transport;

/// <summary>A message handed to a consumer: its body (a CloudEvents envelope), ordering key, target group if any,
/// how many times it has been delivered to this group (1 the first time) and the broker's sequence number.</summary>
public sealed record Delivery(string Topic, string Id, string Key, ReadOnlyMemory<byte> Body, string? TargetGroup, int DeliveryCount, long Sequence)
{
    /// <summary>The backend's handle for acknowledging (e.g. the JetStream message, the Redis entry id).</summary>
    public object? AckHandle { get; init; }
}
