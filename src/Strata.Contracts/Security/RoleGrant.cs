namespace Strata.Contracts.Security;

/// <summary>A role and the permissions it grants (<c>GET /api/security/roles</c>).</summary>
public sealed record RoleGrant(string Role, IReadOnlyList<string> Permissions);
