using Microsoft.AspNetCore.Http;

namespace Strata.ServiceDefaults.Security;

/// <summary>Sign-in for people in a browser (the dashboard): a credential (an API key, or a token of the configured
/// OIDC issuer) is checked once and kept in an encrypted, HTTP-only, same-site session cookie; every request with the
/// cookie is then checked as if it carried the credential itself, so a revoked key or an expired token ends the
/// session at once. Only endpoints marked <see cref="BrowserPage"/> read the cookie: the API answers headers only, so
/// no page of another site can ride on a signed-in browser to call it.</summary>
public interface IBrowserSessions
{
    /// <summary>Checks <paramref name="credential"/> and sets the session cookie; returns why it was refused, or null.</summary>
    Task<string?> SignInAsync(HttpContext context, string credential);

    /// <summary>Removes the session cookie.</summary>
    void SignOut(HttpContext context);

    /// <summary>The credential the request's session cookie carries, or null (no cookie, expired, or not ours).</summary>
    string? CredentialOf(HttpContext context);

    /// <summary>The OIDC provider's name on the sign-in page, or null when sign-in through one is not configured.</summary>
    string? OidcProvider { get; }
}

/// <summary>The dashboard's sign-in through an OpenID Connect provider: the scheme to challenge and its callback path.</summary>
public static class BrowserSignIn
{
    public const string OidcScheme = "oidc";

    public const string CallbackPath = "/ui/sign-in/oidc/callback";

    /// <summary>The prefix of a session credential that is an id token of the OIDC sign-in (not a key or an API token).</summary>
    public const string OidcCredentialPrefix = "oidc:";
}

/// <summary>Endpoint metadata: a page for browsers, which may be authenticated by the session cookie.</summary>
public sealed class BrowserPage
{
    public static BrowserPage Instance { get; } = new();

    private BrowserPage()
    {
    }
}
