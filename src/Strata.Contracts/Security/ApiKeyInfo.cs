namespace Strata.Contracts.Security;

/// <summary>An API key as listed: never its secret or hash.</summary>
public sealed record ApiKeyInfo(string Id, string Name, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt, string CreatedBy)
{
    public string State(DateTimeOffset now) => RevokedAt is not null ? "revoked" : ExpiresAt <= now ? "expired" : "active";
}
