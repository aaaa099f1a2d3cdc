using System.Text.Json;

namespace Strata.Contracts.Events;

/// <summary>An event as a consumer sees it, decoded from its CloudEvents envelope.</summary>
public sealed record ReceivedEvent(string Id, string Topic, string Type, Uri Source, string? Subject, DateTimeOffset? Time, JsonElement Data)
{
    public T? DataAs<T>() => Data.Deserialize<T>(StrataJson.Options);
}
