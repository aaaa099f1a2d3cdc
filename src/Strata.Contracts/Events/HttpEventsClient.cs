using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Strata.Contracts.Http;

namespace Strata.Contracts.Events;

/// <summary>The Events module's operator API over HTTP: audit queries, dead letters, replay, consumer lag.</summary>
public sealed class HttpEventsClient(HttpClient http) : IEventsAdminClient
{
    public async Task<EventPage> QueryAsync(string? topic, string? type, string? subject, DateTimeOffset? from, DateTimeOffset? to, string? traceId,
        int limit, long? after, bool newestFirst, CancellationToken cancellationToken)
    {
        var query = new StringBuilder(RoutePath.Of(EventsRoutes.Prefix, EventsRoutes.Query)).Append("?limit=").Append(limit.ToString(CultureInfo.InvariantCulture));
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            }
        }
        Add("topic", topic);
        Add("type", type);
        Add("subject", subject);
        Add("from", from?.ToString("O", CultureInfo.InvariantCulture));
        Add("to", to?.ToString("O", CultureInfo.InvariantCulture));
        Add("trace_id", traceId);
        Add("after", after?.ToString(CultureInfo.InvariantCulture));
        Add("order", newestFirst ? "desc" : null);
        return (await ModuleHttp.SendAsync<EventPage>(http, ModuleNames.Events, () => new HttpRequestMessage(HttpMethod.Get, query.ToString()), cancellationToken))!;
    }

    public async Task<IReadOnlyList<DeadLetterRecord>> DeadLettersAsync(string? group, string? topic, string? status, int limit, CancellationToken cancellationToken)
    {
        var query = new StringBuilder(RoutePath.Of(EventsRoutes.Prefix, EventsRoutes.DeadLetters)).Append("?limit=").Append(limit.ToString(CultureInfo.InvariantCulture));
        if (group is not null) { query.Append("&group=").Append(Uri.EscapeDataString(group)); }
        if (topic is not null) { query.Append("&topic=").Append(Uri.EscapeDataString(topic)); }
        if (status is not null) { query.Append("&status=").Append(Uri.EscapeDataString(status)); }
        return await ModuleHttp.SendAsync<List<DeadLetterRecord>>(http, ModuleNames.Events, () => new HttpRequestMessage(HttpMethod.Get, query.ToString()), cancellationToken) ?? [];
    }

    public async Task<RedriveResult> RedriveAsync(string id, CancellationToken cancellationToken) =>
        (await ModuleHttp.SendAsync<RedriveResult>(http, ModuleNames.Events,
            () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(EventsRoutes.Prefix, EventsRoutes.Redrive, id)), cancellationToken))!;

    public async Task<ReplayResult> ReplayAsync(ReplayRequest request, CancellationToken cancellationToken) =>
        (await ModuleHttp.SendAsync<ReplayResult>(http, ModuleNames.Events, () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(EventsRoutes.Prefix, EventsRoutes.Replay))
        {
            Content = JsonContent.Create(request, options: StrataJson.Options),
        }, cancellationToken))!;

    public async Task<IReadOnlyList<ConsumerGroupInfo>> ConsumersAsync(string? topic, CancellationToken cancellationToken) =>
        await ModuleHttp.SendAsync<List<ConsumerGroupInfo>>(http, ModuleNames.Events,
            () => new HttpRequestMessage(HttpMethod.Get, topic is null ? RoutePath.Of(EventsRoutes.Prefix, EventsRoutes.Consumers) : $"{RoutePath.Of(EventsRoutes.Prefix, EventsRoutes.Consumers)}?topic={Uri.EscapeDataString(topic)}"), cancellationToken) ?? [];
}
