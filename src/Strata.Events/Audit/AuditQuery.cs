namespace Strata.Events.Audit;

/// <summary>Filters of an audit query (all optional, combined with AND); <see cref="After"/> is a paging cursor;
/// <see cref="NewestFirst"/> returns the latest matches first (what <c>tail</c> shows).</summary>
public sealed record AuditQuery(string? Topic, string? Type, string? Subject, DateTimeOffset? From, DateTimeOffset? To, string? TraceId, int Limit, string? After, bool NewestFirst = false);
