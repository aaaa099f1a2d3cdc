namespace Strata.Contracts.Security;

/// <summary>One row of the authorization table (<c>GET /api/security/routes</c>): a route, the permissions that admit a
/// caller, and the roles holding one of them.</summary>
public sealed record RouteGrant(string Module, string Route, IReadOnlyList<string> Permissions, IReadOnlyList<string> Roles);
