using System.Globalization;
using System.Security.Claims;

namespace Strata.ServiceDefaults.Security;

/// <summary>The claims Strata puts on a principal it authenticated: its permissions as one claim (computed once per
/// key or token, not per request), and how it authenticated.</summary>
public static class StrataClaims
{
    public const string PermissionsType = "strata:permissions";
    public const string Kind = "strata:kind";
    public const string KeyId = "strata:key_id";

    public static Permissions PermissionsOf(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var claim = principal.FindFirst(PermissionsType)?.Value;
        return claim is not null && int.TryParse(claim, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? (Permissions)value : Permissions.None;
    }

    public static Claim PermissionsClaim(Permissions permissions) =>
        new(PermissionsType, ((int)permissions).ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer32);
}
