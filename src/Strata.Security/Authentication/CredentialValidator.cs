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
    /// <summary>Keys that passed the full check, by the presented text: a repeat presentation skips the hash (an interop
    /// call into OpenSSL, the largest part of the check) when the directory still holds the very record it matched; a
    /// revocation or any other change replaces that record, so the next request is checked in full. Only keys that
    /// matched a stored hash get in, so the map is bounded by the number of keys.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ApiKeyRecord> _verified = new(StringComparer.Ordinal);

    public (ClaimsPrincipal? Principal, string? Failure) Validate(string presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        if (_verified.TryGetValue(presented, out var known) && ReferenceEquals(directory.Find(known.Info.Id), known) && known.IsUsable(time.GetUtcNow()))
        {
            return (known.Principal, null);
        }
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
            _verified.TryRemove(presented, out _);
            return (null, record.Info.RevokedAt is not null ? "the API key was revoked" : "the API key has expired");
        }
        _verified[presented] = record;
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
