namespace Strata.Contracts.Events;

/// <summary>An event already encoded as its CloudEvents envelope (<see cref="Id"/> is the CloudEvent id, the broker's
/// dedup key): what an outbox stores in the same transaction as the write it announces.</summary>
public sealed record EncodedEvent(string Id, string Topic, string Key, ReadOnlyMemory<byte> Envelope);
