namespace Strata.Security;

/// <summary>The authentication schemes Strata registers.</summary>
public static class ApiKeyAuthentication
{
    /// <summary>The authentication type of principals from API keys and the service token (<see cref="CredentialValidator"/>).</summary>
    public const string Scheme = "strata-key";

    /// <summary>OIDC / JWT bearer tokens from the configured issuer.</summary>
    public const string JwtScheme = "jwt";

    /// <summary>Id tokens of the dashboard's OIDC sign-in, carried by its session cookie (audience: the client id).</summary>
    public const string OidcSessionScheme = "oidc-session";
}
