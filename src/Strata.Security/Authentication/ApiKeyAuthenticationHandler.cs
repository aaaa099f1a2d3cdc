using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts.Security;
using Strata.Security.ApiKeys;

namespace Strata.Security;

/// <summary>Authenticates <c>Authorization: Bearer strata_…</c> (or <c>X-Api-Key</c>) against the key directory, and the
/// service token of Strata's own processes. A key that is unknown, revoked or expired fails with the reason (which is
/// returned in <c>WWW-Authenticate</c>, never the key).</summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IApiKeyDirectory directory, ServiceToken serviceToken, TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedCredential(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (presented.StartsWith(ServiceToken.Prefix, StringComparison.Ordinal))
        {
            return Task.FromResult(serviceToken.Matches(presented)
                ? AuthenticateResult.Success(new AuthenticationTicket(serviceToken.Principal, Scheme.Name))
                : AuthenticateResult.Fail("the service token is not this Strata's"));
        }
        if (ApiKeyFormat.IdOf(presented) is not { } id)
        {
            return Task.FromResult(AuthenticateResult.Fail("not a Strata API key"));
        }
        if (!directory.IsLoaded)
        {
            return Task.FromResult(AuthenticateResult.Fail("keys are not loaded yet; retry"));
        }
        var record = directory.Find(id);
        if (record is null || !ApiKeyFormat.Matches(presented, record.Hash))
        {
            return Task.FromResult(AuthenticateResult.Fail("unknown API key"));
        }
        if (!record.IsUsable(time.GetUtcNow()))
        {
            return Task.FromResult(AuthenticateResult.Fail(record.Info.RevokedAt is not null ? "the API key was revoked" : "the API key has expired"));
        }
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(record.Principal, Scheme.Name)));
    }

    /// <summary>The credential of a request: the bearer token, else the <c>X-Api-Key</c> header.</summary>
    public static string? PresentedCredential(Microsoft.AspNetCore.Http.HttpRequest request)
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
