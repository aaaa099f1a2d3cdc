using System.Globalization;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Events.Audit;
using Strata.Events.Embedded;
using Strata.Events.Transport;

namespace Strata.Events;

/// <summary>What operators do with the bus: query the audit log, list and re-drive dead letters, replay a time range
/// of a topic to one consumer group, and see each group's lag. Re-driven and replayed events keep their CloudEvent
/// id and go to the named group only (other groups acknowledge them unseen).</summary>
public sealed class EventsAdmin(AuditStore audit, EventBus bus, TimeProvider time, Microsoft.Extensions.Options.IOptions<EventsOptions> options)
{
    public const int MaxLimit = 1000;

    public EventPage Query(AuditQuery query)
    {
        if (query.Limit is < 1 or > MaxLimit)
        {
            throw new InputValidationException("limit", $"must be between 1 and {MaxLimit}");
        }
        if (query.From is { } from && query.To is { } to && to <= from)
        {
            throw new InputValidationException("to", "must be after from");
        }
        if (query.After is not null && query.NewestFirst)
        {
            throw new InputValidationException("after", "pages oldest-first queries only (leave out order=desc)");
        }
        if (query.After is not null && !long.TryParse(query.After, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            throw new InputValidationException("after", "is not a cursor this API returned");
        }
        if (query.TraceId is not null && (query.TraceId.Length != 32 || !query.TraceId.All(char.IsAsciiHexDigitLower)))
        {
            throw new InputValidationException("trace_id", "must be 32 lowercase hex digits (a W3C trace id)");
        }
        return audit.Query(query);
    }

    public IReadOnlyList<DeadLetterRecord> DeadLetters(string? group, string? topic, string? status, int limit)
    {
        if (status is not null and not ("dead" or "redriven"))
        {
            throw new InputValidationException("status", "must be dead or redriven");
        }
        if (limit is < 1 or > MaxLimit)
        {
            throw new InputValidationException("limit", $"must be between 1 and {MaxLimit}");
        }
        return audit.DeadLetters(group, topic, status, limit);
    }

    public async Task<RedriveResult> RedriveAsync(string id, CancellationToken cancellationToken)
    {
        var letter = audit.DeadLetter(id) ?? throw new ResourceNotFoundException("dead letter", id);
        if (letter.Status != "dead")
        {
            throw new ResourceConflictException($"dead letter {id} was already re-driven at {letter.RedrivenAt:O}");
        }
        var envelope = System.Text.Encoding.UTF8.GetBytes(letter.Event.GetRawText());
        var key = letter.Event.TryGetProperty("subject", out var subject) && subject.ValueKind == System.Text.Json.JsonValueKind.String ? subject.GetString()! : letter.EventId;
        await bus.PublishEnvelopesAsync(letter.Topic, [new OutgoingMessage($"{letter.EventId}~redrive~{id}", key, envelope, letter.Group)], cancellationToken);
        audit.MarkRedriven(id, time.GetUtcNow());
        return new RedriveResult(id, letter.Group, letter.Topic, letter.EventId);
    }

    public async Task<ReplayResult> ReplayAsync(ReplayRequest request, CancellationToken cancellationToken)
    {
        var topic = request.Topic ?? throw new InputValidationException("topic", "is required");
        if (!EmbeddedEventLog.IsValidName(topic))
        {
            throw new InputValidationException("topic", "must be letters, digits, '.', '_' or '-'");
        }
        var group = request.Group ?? throw new InputValidationException("group", "is required");
        if (!EmbeddedEventLog.IsValidName(group))
        {
            throw new InputValidationException("group", "must be letters, digits, '.', '_' or '-'");
        }
        var from = request.From ?? throw new InputValidationException("from", "is required");
        var to = request.To ?? time.GetUtcNow();
        if (to <= from)
        {
            throw new InputValidationException("to", "must be after from");
        }
        var envelopes = audit.Envelopes(topic, from, to);
        var replay = Guid.NewGuid().ToString("N")[..12];
        foreach (var chunk in envelopes.Chunk(500))
        {
            await bus.PublishEnvelopesAsync(topic, [.. chunk.Select(e => new OutgoingMessage($"{e.Id}~replay~{replay}", e.Subject ?? e.Id, e.Envelope, group))], cancellationToken);
        }
        return new ReplayResult(topic, group, envelopes.Count);
    }

    public async Task<IReadOnlyList<ConsumerGroupInfo>> ConsumersAsync(string? topic, CancellationToken cancellationToken)
    {
        if (topic is not null && !EventTopics.All.Contains(topic) && !EmbeddedEventLog.IsValidName(topic))
        {
            throw new InputValidationException("topic", "must be letters, digits, '.', '_' or '-'");
        }
        var result = new List<ConsumerGroupInfo>();
        foreach (var t in topic is null ? EventTopics.All.Union(options.Value.Ingress.OpenTopics, StringComparer.Ordinal) : [topic])
        {
            foreach (var state in await bus.Transport.DescribeAsync(t, cancellationToken))
            {
                result.Add(new ConsumerGroupInfo(state.Topic, state.Group, state.Pending, state.InFlight, state.Redelivered));
            }
        }
        return result;
    }
}

/// <summary><see cref="IEventsAdminClient"/> in the process that hosts the Events module.</summary>
public sealed class EventsAdminClient(EventsAdmin admin) : IEventsAdminClient
{
    public Task<EventPage> QueryAsync(string? topic, string? type, string? subject, DateTimeOffset? from, DateTimeOffset? to, string? traceId,
        int limit, long? after, bool newestFirst, CancellationToken cancellationToken) =>
        Task.FromResult(admin.Query(new AuditQuery(topic, type, subject, from, to, traceId, limit, after?.ToString(CultureInfo.InvariantCulture), newestFirst)));

    public Task<IReadOnlyList<DeadLetterRecord>> DeadLettersAsync(string? group, string? topic, string? status, int limit, CancellationToken cancellationToken) =>
        Task.FromResult(admin.DeadLetters(group, topic, status, limit));

    public Task<RedriveResult> RedriveAsync(string id, CancellationToken cancellationToken) => admin.RedriveAsync(id, cancellationToken);

    public Task<ReplayResult> ReplayAsync(ReplayRequest request, CancellationToken cancellationToken) => admin.ReplayAsync(request, cancellationToken);

    public Task<IReadOnlyList<ConsumerGroupInfo>> ConsumersAsync(string? topic, CancellationToken cancellationToken) => admin.ConsumersAsync(topic, cancellationToken);
}
