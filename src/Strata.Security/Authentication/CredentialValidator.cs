using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Strata.Contracts.Security;
using Strata.Security.ApiKeys;

namespace Strata.Security;

/// <summary>Checks an API key or the service token: the public id is looked up in the key directory (memory), the
/// presented key's SHA-256 compared in constant time, revocation and expiry checked; a failure says why (unknown,
/// revoked, expired), never the key. Called directly by the access middleware rather than as an ASP.NET Core
/// authentication handler: activating a handler per request cost /predict a measurable share of its throughput, and
/// the key check itself is a dictionary lookup and one hash.</summary>
public sealed class CredentialValidator(IApiKeyDirectory directory, ServiceToken serviceToken, TimeProvider time)
{
    public (ClaimsPrincipal? Principal, string? Failure) Validate(string presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        if (presented.StartsWith(ServiceToken.Prefix, StringComparison.Ordinal))
        {
            return serviceToken.Matches(presented) ? (serviceToken.Principal, null) : (null, "the service token is not this Strata's");
        }
        if (ApiKeyFormat.IdOf(presented) is not { } id)
        {
            return (null, "not a Strata API key");
        }
        if (!directory.IsLoaded)
        {
            return (null, "keys are not loaded yet; retry");
        }
        var record = directory.Find(id);
        if (record is null || !ApiKeyFormat.Matches(presented, record.Hash))
        {
            return (null, "unknown API key");
        }
        if (!record.IsUsable(time.GetUtcNow()))
        {
            return (null, record.Info.RevokedAt is not null ? "the API key was revoked" : "the API key has expired");
        }
        return (record.Principal, null);
    }

    /// <summary>The credential of a request: the bearer token, else the <c>X-Api-Key</c> header.</summary>
    public static string? PresentedCredential(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.Length > 7 && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization[7..].Trim();
        }
        var header = request.Headers[SecurityRoutes.ApiKeyHeader].ToString();
        return header.Length > 0 ? header.Trim() : null;
    }
}
