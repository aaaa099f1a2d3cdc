using System.Text.Json;

namespace Strata.Events.Http;

/// <summary>Wire shapes of the embedded broker's HTTP API (<c>/api/events/topics/...</c>): how processes other than the
/// one hosting the Events module publish to and consume from its log. <c>event</c> is the CloudEvents envelope itself.</summary>
public sealed record WireMessage(string Id, string Key, string? TargetGroup, JsonElement Event);

public sealed record PublishMessagesRequest(IReadOnlyList<WireMessage>? Messages);

public sealed record PublishMessagesResponse(int Accepted);

public sealed record FetchRequest(string? Consumer, int Max = 64, int WaitMs = 1000, int AckWaitMs = 30_000, int MaxAckPending = 256, bool FromStart = false);

public sealed record WireDelivery(string Id, string Key, string? TargetGroup, int DeliveryCount, long Sequence, JsonElement Event);

public sealed record FetchResponse(IReadOnlyList<WireDelivery> Deliveries);

public sealed record AckRequest(string? Consumer, IReadOnlyList<long>? Sequences);

public sealed record ReleaseRequest(string? Consumer);
