using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Strata.ServiceDefaults.Security;

namespace Strata.Security;

/// <summary>Maps a validated token's claims onto Strata's roles: values of the configured role claim that name a role
/// (a JSON array or one value), and <c>scope</c> / <c>scp</c> entries <c>strata:&lt;role&gt;</c>. A token naming no
/// role is authenticated and may call only what any principal may (<c>whoami</c>).</summary>
public static class JwtRoles
{
    public static void Configure(JwtBearerOptions options, SecurityOptions.JwtOptions jwt)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(jwt);
        options.Authority = jwt.Authority;
        options.Audience = jwt.Audience;
        options.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
        options.MapInboundClaims = false;
        options.RefreshInterval = jwt.RefreshInterval;
        options.AutomaticRefreshInterval = TimeSpan.FromHours(12);
        options.TokenValidationParameters.ValidateAudience = !string.IsNullOrEmpty(jwt.Audience);
        options.TokenValidationParameters.ClockSkew = TimeSpan.FromSeconds(30);
        options.TokenValidationParameters.NameClaimType = ClaimTypes.Name;
        options.TokenValidationParameters.RoleClaimType = ClaimTypes.Role;
        options.Events = new JwtBearerEvents
        {
            // The host authenticates every request with the (only) scheme; an API key is not a JWT: no parse attempt.
            OnMessageReceived = c =>
            {
                var header = c.Request.Headers.Authorization.ToString();
                if (header.Contains(" strata_", StringComparison.Ordinal) || header.Contains(" " + ServiceToken.Prefix, StringComparison.Ordinal))
                {
                    c.NoResult();
                }
                return Task.CompletedTask;
            },
            // The middleware writes the 401 itself, in the endpoint's error shape.
            OnChallenge = c =>
            {
                c.HandleResponse();
                return Task.CompletedTask;
            },
            OnTokenValidated = c =>
            {
                if (c.Principal?.Identity is ClaimsIdentity identity)
                {
                    Apply(identity, jwt.RoleClaim);
                }
                return Task.CompletedTask;
            },
        };
    }

    public static void Apply(ClaimsIdentity identity, string roleClaim)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var roles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var claim in identity.FindAll(roleClaim).ToList())
        {
            foreach (var value in Values(claim.Value))
            {
                if (StrataRoles.Grantable.ContainsKey(value))
                {
                    roles.Add(value);
                }
            }
        }
        foreach (var claim in identity.FindAll(c => c.Type is "scope" or "scp").ToList())
        {
            foreach (var scope in claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (scope.StartsWith("strata:", StringComparison.Ordinal) && StrataRoles.Grantable.ContainsKey(scope[7..]))
                {
                    roles.Add(scope[7..]);
                }
            }
        }
        var name = identity.FindFirst("preferred_username")?.Value ?? identity.FindFirst("sub")?.Value ?? identity.FindFirst("client_id")?.Value ?? "jwt";
        identity.AddClaim(new Claim(ClaimTypes.Name, name));
        identity.AddClaim(new Claim(StrataClaims.Kind, "jwt"));
        identity.AddClaims(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        identity.AddClaim(StrataClaims.PermissionsClaim(StrataRoles.PermissionsOf(roles) | Permissions.Authenticated));
    }

    private static string[] Values(string value)
    {
        if (value.StartsWith('['))
        {
            try
            {
                return JsonSerializer.Deserialize<string[]>(value) ?? [];
            }
            catch (JsonException)
            {
                return [];
            }
        }
        return [value];
    }
}
