namespace Strata.Contracts.Security;

/// <summary>Body of <c>POST /api/security/keys</c>: a name (unique among active keys), its roles, and an optional expiry
/// (absolute, or in days from now).</summary>
public sealed record NewApiKey(string? Name, IReadOnlyList<string>? Roles, DateTimeOffset? ExpiresAt = null, double? ExpiresInDays = null);
