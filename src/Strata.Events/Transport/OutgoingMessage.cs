namespace Strata.Events.Transport;

/// <summary>A message to append. <paramref name="Id"/> is the CloudEvent id (the broker's dedup key),
/// <paramref name="Key"/> the ordering/partition key, <paramref name="TargetGroup"/> set when only that consumer
/// group should handle it (a dead letter re-driven, a replay); other groups acknowledge it unseen.</summary>
public sealed record OutgoingMessage(string Id, string Key, ReadOnlyMemory<byte> Body, string? TargetGroup = null)
{
    /// <summary>True when the bus generated <see cref="Id"/> for this very publish (a new UUIDv7, 74 random bits): no
    /// earlier publish can have carried it, so a transport may skip its dedup lookup, and need not remember the id. An
    /// id that can come again -- an outbox relay, a publish forwarded over HTTP (which the client retries), a re-drive,
    /// a replay -- is never fresh, and is looked up and remembered as always.</summary>
    public bool FreshId { get; init; }
}
