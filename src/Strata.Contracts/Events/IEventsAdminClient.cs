namespace Strata.Contracts.Events;

/// <summary>The Events module's operator API: audit queries, dead letters, redrive, replay, consumer lag. In process it
/// calls the module; across processes it is <see cref="HttpEventsClient"/>.</summary>
public interface IEventsAdminClient
{
    Task<EventPage> QueryAsync(string? topic, string? type, string? subject, DateTimeOffset? from, DateTimeOffset? to, string? traceId,
        int limit, long? after, bool newestFirst, CancellationToken cancellationToken);

    Task<IReadOnlyList<DeadLetterRecord>> DeadLettersAsync(string? group, string? topic, string? status, int limit, CancellationToken cancellationToken);

    Task<RedriveResult> RedriveAsync(string id, CancellationToken cancellationToken);

    Task<ReplayResult> ReplayAsync(ReplayRequest request, CancellationToken cancellationToken);

    Task<IReadOnlyList<ConsumerGroupInfo>> ConsumersAsync(string? topic, CancellationToken cancellationToken);
}
