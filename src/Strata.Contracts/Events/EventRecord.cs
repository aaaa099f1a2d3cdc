using System.Text.Json;

namespace Strata.Contracts.Events;

/// <summary>An event as the audit log keeps it: its position in the log (<see cref="Seq"/>, increasing), envelope
/// attributes, the trace it belongs to and its data.</summary>
public sealed record EventRecord(long Seq, string Id, string Topic, string Type, string Source, string? Subject, DateTimeOffset Time, string? TraceId, JsonElement Data);

/// <summary>One page of an audit query; <see cref="Next"/> continues it (null at the end; oldest-first pages only).</summary>
public sealed record EventPage(IReadOnlyList<EventRecord> Events, string? Next);

/// <summary>A dead letter as the Events module keeps it: which group gave up on which event, why, and whether it
/// has been re-driven since.</summary>
public sealed record DeadLetterRecord(string Id, string Group, string Topic, string EventId, int Attempts, string Error, DateTimeOffset FailedAt,
    string Status, DateTimeOffset? RedrivenAt, JsonElement Event);

/// <summary>Re-deliver the events of <see cref="Topic"/> from <see cref="From"/> (inclusive) to <see cref="To"/>
/// (exclusive) to consumer group <see cref="Group"/> only, in their original order.</summary>
public sealed record ReplayRequest(string? Topic, string? Group, DateTimeOffset? From, DateTimeOffset? To);

public sealed record ReplayResult(string Topic, string Group, int Replayed);

public sealed record RedriveResult(string Id, string Group, string Topic, string EventId);

/// <summary>A consumer group's lag on a topic, as the broker reports it.</summary>
public sealed record ConsumerGroupInfo(string Topic, string Group, long Pending, long InFlight, long Redelivered);
