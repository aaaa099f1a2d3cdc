using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Contracts.Events;

/// <summary>An event as the audit log keeps it, as a CloudEvents 1.0 structured-mode JSON object: every attribute its
/// envelope had on the broker (extensions included, in <see cref="Extensions"/>), plus two extension attributes of
/// Strata's: <c>seq</c>, its position in the log (increasing; a string, as CloudEvents integers are 32-bit), and
/// <c>topic</c>, where it was published. Both official SDKs parse it (issue 24: the audit log's records were not
/// CloudEvents).</summary>
public sealed record EventRecord
{
    [JsonPropertyName("specversion")]
    public string SpecVersion { get; init; } = "1.0";

    public required string Id { get; init; }

    public required string Source { get; init; }

    public required string Type { get; init; }

    public DateTimeOffset? Time { get; init; }

    public string? Subject { get; init; }

    [JsonPropertyName("datacontenttype")]
    public string? DataContentType { get; init; }

    [JsonPropertyName("dataschema")]
    public string? DataSchema { get; init; }

    /// <summary>The W3C trace context of the publishing span (the distributed tracing extension).</summary>
    [JsonPropertyName("traceparent")]
    public string? TraceParent { get; init; }

    [JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)]
    public long Seq { get; init; }

    public required string Topic { get; init; }

    public JsonElement? Data { get; init; }

    /// <summary>The envelope's other extension attributes, as they were published.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extensions { get; init; }

    /// <summary>The trace id of <see cref="TraceParent"/> (32 hex digits), or null.</summary>
    [JsonIgnore]
    public string? TraceId => TraceParent is { Length: 55 } tp ? tp.Substring(3, 32) : null;

    /// <summary>The attribute names Strata adds to every record; an event published with one of them is refused.</summary>
    public static IReadOnlySet<string> StrataAttributes { get; } = new HashSet<string>(["seq", "topic"], StringComparer.Ordinal);
}

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
