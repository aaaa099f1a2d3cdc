using System.Security.Claims;
using Strata.Security.ApiKeys;
using Strata.ServiceDefaults.Security;

namespace Strata.Security;

/// <summary>The credential Strata's processes present to each other (module to module, to the embedded broker, for the
/// key snapshot): a random token in a file only its owner can read (<c>security/service-token</c> under the data
/// directory, or <c>Strata:Security:ServiceTokenFile</c>, e.g. a mounted secret). The first process to start creates it.</summary>
public sealed class ServiceToken : IServiceCredential
{
    public const string Prefix = "strata-service_";

    private readonly byte[] _hash;

    public ServiceToken(string file, string process)
    {
        Value = SecretFiles.ReadOrCreate(file, () => Prefix + ApiKeyFormat.RandomSecret());
        _hash = ApiKeyFormat.Hash(Value);
        var identity = new ClaimsIdentity(ApiKeyAuthentication.Scheme, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.Name, $"service:{process}"));
        identity.AddClaim(new Claim(StrataClaims.Kind, "service"));
        identity.AddClaim(new Claim(ClaimTypes.Role, StrataRoles.Service));
        identity.AddClaim(StrataClaims.PermissionsClaim(StrataRoles.PermissionsOf([StrataRoles.Service])));
        Principal = new ClaimsPrincipal(identity);
    }

    /// <summary>The token itself: sent, never logged.</summary>
    public string Value { get; }

    public System.Net.Http.Headers.AuthenticationHeaderValue Header => _header ??= new("Bearer", Value);

    private System.Net.Http.Headers.AuthenticationHeaderValue? _header;

    /// <summary>The principal a caller presenting the token is (services of one Strata share one identity until each has
    /// its own certificate).</summary>
    public ClaimsPrincipal Principal { get; }

    public bool Matches(ReadOnlySpan<char> presented) => ApiKeyFormat.Matches(presented, _hash);
}
