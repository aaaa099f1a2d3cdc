namespace Strata.Events.Audit;

/// <summary>Filters of an audit query (all optional, combined with AND); <see cref="After"/> is a paging cursor.</summary>
public sealed record AuditQuery(string? Topic, string? Type, string? Subject, DateTimeOffset? From, DateTimeOffset? To, string? TraceId, int Limit, string? After);
