using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Events.Audit;
using Strata.Events.Embedded;
using Strata.Events.Http;
using Strata.Events.Ingress;
using Strata.Events.Transport;
using Strata.ServiceDefaults;

namespace Strata.Events;

/// <summary>The Events module's HTTP API under <c>/api/events</c>: the audit log, dead letters, replay and consumer lag;
/// and, when the broker is the embedded log hosted here, the broker itself (publish, fetch, ack, release) for the
/// other processes of the microservices topology.</summary>
public static class EventsApi
{
    public const int MaxMessagesPerPublish = 10_000;
    public const long MaxBodyBytes = 64L << 20;

    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(EventsRoutes.Prefix).InModule(ModuleNames.Events).WithTags("Events");
        api.MapGet(EventsRoutes.Query, Query)
            .Produces<EventPage>(StatusCodes.Status200OK, "application/json").Produces<EventRecord[]>(StatusCodes.Status200OK, CloudEventIngress.BatchMediaType)
            .WithSummary("Audit log: events by topic, type, subject, time range [from, to) and trace id; oldest first, paged by `after` (or `order=desc`: newest first). "
                + "Each event is a CloudEvent (structured JSON) with Strata's extensions `seq` and `topic`; with `Accept: application/cloudevents-batch+json` the body is a CloudEvents batch and the next page is in the `Link` header");
        api.MapPost(EventsRoutes.Ingress, async (string topic, HttpRequest request, CloudEventIngress ingress, CancellationToken ct) =>
                TypedResults.Accepted((string?)null, await ingress.PublishAsync(Name("topic", topic), request, ct)))
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .Accepts<EventRecord>(CloudEventIngress.StructuredMediaType, "application/json", CloudEventIngress.BatchMediaType)
            .WithSummary("Publish CloudEvents from outside to a topic open to them (Strata:Events:Ingress:Topics): binary (ce-* headers, JSON data), structured or batch mode; "
                + "the data is checked against the topic's schema; all the events are stored, or none");
        api.MapGet(EventsRoutes.DeadLetters, (string? group, string? topic, string? status, string? limit, EventsAdmin admin) =>
            TypedResults.Ok(admin.DeadLetters(group, topic, status, ParseInt("limit", limit, 100))))
            .WithSummary("Events a consumer group gave up on (status dead or redriven)");
        api.MapPost(EventsRoutes.Redrive, async (string id, EventsAdmin admin, CancellationToken ct) => TypedResults.Ok(await admin.RedriveAsync(id, ct)))
            .WithSummary("Deliver a dead letter again, to the group that gave up on it only; 409 if already re-driven");
        api.MapPost(EventsRoutes.Replay, async (ReplayRequest? request, EventsAdmin admin, CancellationToken ct) =>
            TypedResults.Ok(await admin.ReplayAsync(request ?? throw new InputValidationException("body", "is required"), ct)))
            .WithSummary("Re-deliver a topic's events of [from, to) to one consumer group, in order");
        api.MapGet(EventsRoutes.Consumers, async (string? topic, EventsAdmin admin, CancellationToken ct) => TypedResults.Ok(await admin.ConsumersAsync(topic, ct)))
            .WithSummary("Each consumer group's lag (pending), in-flight and redelivered counts");

        if (app.ServiceProvider.GetService<IOptions<EventsOptions>>()?.Value.Backend == "embedded" && app.ServiceProvider.GetService<BrokerSessions>() is not null)
        {
            api.MapPost(EventsRoutes.Messages, Publish).WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
                .WithSummary("Embedded broker: append messages (deduplicated by id)");
            api.MapPost(EventsRoutes.Join, Join).WithSummary("Embedded broker: a member joins its group (a new group starts at the end of the topic)");
            api.MapPost(EventsRoutes.Fetch, Fetch).WithSummary("Embedded broker: lease up to max messages for a group member (long poll)");
            api.MapPost(EventsRoutes.Ack, Ack).WithSummary("Embedded broker: acknowledge leased messages");
            api.MapPost(EventsRoutes.Release, Release).WithSummary("Embedded broker: a member leaves; its leases return to the group");
            api.MapGet(EventsRoutes.Groups, async (string topic, BrokerSessions sessions, CancellationToken ct) =>
                TypedResults.Ok(await sessions.Log.DescribeAsync(Name("topic", topic), ct)));
        }
        return app;
    }

    private static IResult Query(string? topic, string? type, string? subject, string? from, string? to,
        string? trace_id, string? limit, string? after, string? order, EventsAdmin admin, HttpRequest request)
    {
        var page = admin.Query(new AuditQuery(topic, type, subject, ParseTime("from", from), ParseTime("to", to), trace_id, ParseInt("limit", limit, 100), after,
            order switch
            {
                null or "asc" => false,
                "desc" => true,
                _ => throw new InputValidationException("order", "must be asc or desc"),
            }));
        if (!WantsBatch(request))
        {
            return TypedResults.Ok(page);
        }
        // A CloudEvents batch is a bare array: the cursor goes where HTTP puts the next page (RFC 8288).
        if (page.Next is { } next)
        {
            var query = QueryString.Create(request.Query.Where(q => q.Key != "after").SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v)))
                .Append(KeyValuePair.Create("after", (string?)next)));
            request.HttpContext.Response.Headers.Link = $"<{request.PathBase}{request.Path}{query}>; rel=\"next\"";
        }
        return TypedResults.Json(page.Events, StrataJson.Options, CloudEventIngress.BatchMediaType);
    }

    /// <summary>Whether the client prefers a CloudEvents batch to the JSON page (Accept, with its q values).</summary>
    private static bool WantsBatch(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        double Quality(string mediaType) => accept.Where(a => a.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase)).Select(a => a.Quality ?? 1).DefaultIfEmpty(0).Max();
        var batch = Quality(CloudEventIngress.BatchMediaType);
        return batch > 0 && batch >= Quality("application/json");
    }

    private static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<PublishMessagesResponse>> Publish(string topic, PublishMessagesRequest? request, BrokerSessions sessions, CancellationToken ct)
    {
        Name("topic", topic);
        var messages = request?.Messages ?? throw new InputValidationException("messages", "is required");
        if (messages.Count is 0 or > MaxMessagesPerPublish)
        {
            throw new InputValidationException("messages", $"must hold 1 to {MaxMessagesPerPublish} messages");
        }
        var outgoing = new OutgoingMessage[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i] ?? throw new InputValidationException($"messages[{i}]", "is required");
            if (string.IsNullOrEmpty(m.Id) || m.Id.Length > 256)
            {
                throw new InputValidationException($"messages[{i}].id", "is required (1 to 256 characters)");
            }
            if (m.Key is null || m.Key.Length > 1024)
            {
                throw new InputValidationException($"messages[{i}].key", "is required (up to 1024 characters)");
            }
            if (m.TargetGroup is not null && !EmbeddedEventLog.IsValidName(m.TargetGroup))
            {
                throw new InputValidationException($"messages[{i}].target_group", "is not a valid group name");
            }
            if (m.Event.ValueKind != JsonValueKind.Object)
            {
                throw new InputValidationException($"messages[{i}].event", "must be a CloudEvents JSON object");
            }
            outgoing[i] = new OutgoingMessage(m.Id, m.Key, JsonSerializer.SerializeToUtf8Bytes(m.Event), m.TargetGroup);
        }
        await sessions.Log.PublishAsync(topic, outgoing, ct);
        return TypedResults.Ok(new PublishMessagesResponse(outgoing.Length));
    }

    private static async Task<Microsoft.AspNetCore.Http.HttpResults.NoContent> Join(string topic, string group, FetchRequest? request, BrokerSessions sessions, CancellationToken ct)
    {
        await MemberAsync(topic, group, request, sessions, ct);
        return TypedResults.NoContent();
    }

    private static async Task<IEventConsumer> MemberAsync(string topic, string group, FetchRequest? request, BrokerSessions sessions, CancellationToken ct)
    {
        Name("topic", topic);
        Name("group", group);
        var r = request ?? throw new InputValidationException("body", "is required");
        var consumer = Name("consumer", r.Consumer);
        Range("max", r.Max, 1, 1000);
        Range("wait_ms", r.WaitMs, 0, 30_000);
        Range("ack_wait_ms", r.AckWaitMs, 100, 3_600_000);
        Range("max_ack_pending", r.MaxAckPending, 1, 100_000);
        return await sessions.GetAsync(topic, group, new ConsumerSettings(consumer, TimeSpan.FromMilliseconds(r.AckWaitMs), r.MaxAckPending) { FromStart = r.FromStart }, ct);
    }

    private static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<FetchResponse>> Fetch(string topic, string group, FetchRequest? request, BrokerSessions sessions, CancellationToken ct)
    {
        var member = await MemberAsync(topic, group, request, sessions, ct);
        var batch = await member.FetchAsync(request!.Max, TimeSpan.FromMilliseconds(request.WaitMs), ct);
        return TypedResults.Ok(new FetchResponse([.. batch.Select(d =>
        {
            using var envelope = JsonDocument.Parse(d.Body);
            return new WireDelivery(d.Id, d.Key, d.TargetGroup, d.DeliveryCount, d.Sequence, envelope.RootElement.Clone());
        })]));
    }

    private static async Task<Microsoft.AspNetCore.Http.HttpResults.NoContent> Ack(string topic, string group, AckRequest? request, BrokerSessions sessions, CancellationToken ct)
    {
        Name("topic", topic);
        Name("group", group);
        var r = request ?? throw new InputValidationException("body", "is required");
        var consumer = Name("consumer", r.Consumer);
        var sequences = r.Sequences ?? throw new InputValidationException("sequences", "is required");
        if (sequences.Any(s => s < 0))
        {
            throw new InputValidationException("sequences", "must be offsets this group fetched");
        }
        var member = sessions.Find(topic, group, consumer) ?? throw new ResourceNotFoundException("consumer", $"{topic}/{group}/{consumer}");
        await member.AckAsync([.. sequences.Select(s => new Delivery(topic, string.Empty, string.Empty, ReadOnlyMemory<byte>.Empty, null, 1, s))], ct);
        return TypedResults.NoContent();
    }

    private static async Task<Microsoft.AspNetCore.Http.HttpResults.NoContent> Release(string topic, string group, ReleaseRequest? request, BrokerSessions sessions)
    {
        Name("topic", topic);
        Name("group", group);
        await sessions.ReleaseAsync(topic, group, Name("consumer", request?.Consumer));
        return TypedResults.NoContent();
    }

    private static string Name(string field, string? value) =>
        value is not null && EmbeddedEventLog.IsValidName(value) ? value
            : throw new InputValidationException(field, "is required: letters, digits, '.', '_' or '-' (up to 128)");

    private static void Range(string field, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            throw new InputValidationException(field, $"must be between {min} and {max}");
        }
    }

    private static int ParseInt(string field, string? value, int fallback) =>
        value is null ? fallback
            : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new InputValidationException(field, "must be a whole number");

    private static DateTimeOffset? ParseTime(string field, string? value) =>
        value is null ? null
            : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t
            : throw new InputValidationException(field, "must be an ISO 8601 time");
}
