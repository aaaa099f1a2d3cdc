namespace Strata.Contracts.Security;

/// <summary>Who the caller is to Strata (<c>GET /api/security/whoami</c>): its name, how it authenticated
/// (<c>api-key</c>, <c>jwt</c>, <c>service</c>), its roles and the permissions they grant.</summary>
public sealed record Principal(string Name, string Kind, string? KeyId, IReadOnlyList<string> Roles, IReadOnlyList<string> Permissions);
