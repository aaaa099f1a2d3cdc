using System.Security.Claims;
using Strata.Contracts.Security;
using Strata.ServiceDefaults.Security;

namespace Strata.Security.ApiKeys;

/// <summary>A stored key: what is listed about it and the hash its secret must match. The principal it authenticates
/// as is built once, not per request.</summary>
public sealed class ApiKeyRecord
{
    public ApiKeyRecord(ApiKeyInfo info, byte[] hash)
    {
        ArgumentNullException.ThrowIfNull(info);
        Info = info;
        Hash = hash;
        var identity = new ClaimsIdentity(ApiKeyAuthentication.Scheme, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.Name, info.Name));
        identity.AddClaim(new Claim(StrataClaims.Kind, "api-key"));
        identity.AddClaim(new Claim(StrataClaims.KeyId, info.Id));
        identity.AddClaims(info.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        identity.AddClaim(StrataClaims.PermissionsClaim(StrataRoles.PermissionsOf(info.Roles)));
        Principal = new ClaimsPrincipal(identity);
    }

    public ApiKeyInfo Info { get; }

    public byte[] Hash { get; }

    public ClaimsPrincipal Principal { get; }

    public bool IsUsable(DateTimeOffset now) => Info.RevokedAt is null && (Info.ExpiresAt is null || Info.ExpiresAt > now);
}
