using System.Text.Json;

namespace Strata.Contracts.Events;

/// <summary>An event as a consumer sees it, decoded from its CloudEvents envelope (<see cref="Source"/> and
/// <see cref="DataSchema"/> are the envelope's URI references as written).</summary>
public sealed record ReceivedEvent(string Id, string Topic, string Type, string Source, string? Subject, DateTimeOffset? Time, JsonElement Data)
{
    /// <summary>W3C trace context of the publisher (the <c>traceparent</c> extension), if it had one.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The URI of the JSON Schema of <see cref="Data"/> (<c>dataschema</c>).</summary>
    public string? DataSchema { get; init; }

    /// <summary>1 the first time this group gets the event; more when it is redelivered.</summary>
    public int DeliveryCount { get; init; } = 1;

    /// <summary>The CloudEvents envelope as the broker carried it.</summary>
    public ReadOnlyMemory<byte> Envelope { get; init; }

    /// <summary>What makes the event unique, as CloudEvents define it: <c>source</c> and <c>id</c> together. Strata's own
    /// sources (<see cref="StrataSourcePrefix"/>) issue ids unique on their own, so theirs is the id alone; the inbox
    /// and the audit log deduplicate by this, so two producers' events with the same id are both kept.</summary>
    public string Identity => Source.StartsWith(StrataSourcePrefix, StringComparison.Ordinal) ? Id : string.Concat(Source, " ", Id);

    /// <summary>The <c>source</c> of every event Strata's processes publish (<c>/strata/&lt;process&gt;</c>); events from
    /// outside may not claim it.</summary>
    public const string StrataSourcePrefix = "/strata/";

    public T? DataAs<T>() => Data.Deserialize<T>(StrataJson.Options);
}
