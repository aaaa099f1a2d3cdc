using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Strata.Security.ApiKeys;
using Strata.ServiceDefaults.Security;

namespace Strata.Security;

/// <summary><see cref="IBrowserSessions"/> with ASP.NET Core data protection: the cookie holds the credential encrypted
/// and authenticated with the process's key ring (kept in memory: a restart signs everyone out, and no key file is
/// written), with its expiry inside the protected payload (at most <see cref="Lifetime"/>).</summary>
public sealed class BrowserSessions(IDataProtectionProvider protection, CredentialValidator validator, SecurityRuntime runtime, TimeProvider time,
    Microsoft.Extensions.Options.IOptions<SecurityOptions> options) : IBrowserSessions
{
    public const string CookieName = "strata_session";

    /// <summary>How long a session lasts without signing in again.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector("Strata.BrowserSession.v1").ToTimeLimitedDataProtector();

    public async Task<string?> SignInAsync(HttpContext context, string credential)
    {
        ArgumentNullException.ThrowIfNull(context);
        credential = credential?.Trim() ?? string.Empty;
        if (credential.Length == 0)
        {
            return "enter an API key";
        }
        if (credential.StartsWith(ServiceToken.Prefix, StringComparison.Ordinal))
        {
            return "the service token is for Strata's own processes, not for signing in";
        }
        string? failure;
        if (credential.StartsWith(ApiKeyFormat.Prefix, StringComparison.Ordinal) || !runtime.JwtEnabled)
        {
            (_, failure) = validator.Validate(credential);
        }
        else
        {
            // A token of the configured issuer: the JWT handler reads it from the Authorization header.
            context.Request.Headers.Authorization = "Bearer " + credential;
            var result = await context.AuthenticateAsync(ApiKeyAuthentication.JwtScheme);
            context.Request.Headers.Authorization = default;
            failure = result.Succeeded ? null : "the token is not valid for this Strata";
        }
        if (failure is not null)
        {
            return failure;
        }
        var expires = time.GetUtcNow().Add(Lifetime);
        context.Response.Cookies.Append(CookieName, _protector.Protect(credential, expires), Options(context, expires));
        return null;
    }

    public string? OidcProvider => string.IsNullOrWhiteSpace(options.Value.Oidc.Authority) ? null : options.Value.Oidc.DisplayName;

    /// <summary>The session of an OIDC sign-in: the provider's id token, until it expires (at most <see cref="Lifetime"/>).</summary>
    public void KeepOidc(HttpContext context, string idToken, DateTimeOffset tokenExpires)
    {
        ArgumentNullException.ThrowIfNull(context);
        var expires = Min(tokenExpires, time.GetUtcNow().Add(Lifetime));
        context.Response.Cookies.Append(CookieName, _protector.Protect(BrowserSignIn.OidcCredentialPrefix + idToken, expires), Options(context, expires));
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    public void SignOut(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Cookies.Delete(CookieName, Options(context, null));
    }

    public string? CredentialOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }
        try
        {
            var credential = _protector.Unprotect(value, out var expires);
            return expires > time.GetUtcNow() ? credential : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // Tampered, expired, or protected by a key ring this process no longer has (a restart).
            return null;
        }
    }

    private static CookieOptions Options(HttpContext context, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        Secure = context.Request.IsHttps,
        SameSite = SameSiteMode.Strict,
        Path = "/",
        Expires = expires,
        IsEssential = true,
    };
}
