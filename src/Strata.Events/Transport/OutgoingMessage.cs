namespace Strata.Events.Transport;

/// <summary>A message to append. <paramref name="Id"/> is the CloudEvent id (the broker's dedup key),
/// <paramref name="Key"/> the ordering/partition key, <paramref name="TargetGroup"/> set when only that consumer
/// group should handle it (a dead letter re-driven, a replay); other groups acknowledge it unseen.</summary>
public sealed record OutgoingMessage(string Id, string Key, ReadOnlyMemory<byte> Body, string? TargetGroup = null);
