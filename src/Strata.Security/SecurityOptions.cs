namespace Strata.Security;

/// <summary><c>Strata:Security</c>: where the service token lives, how often processes refresh the keys, and the OIDC
/// issuer whose tokens are accepted.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Strata:Security";

    /// <summary>The service token file; default <c>security/service-token</c> under the data directory.</summary>
    public string? ServiceTokenFile { get; set; }

    /// <summary>Where a fresh Strata writes its first admin key for the CLI; default <c>api-key</c> in the data directory.</summary>
    public string? AdminKeyFile { get; set; }

    /// <summary>How often a process without the Security module polls it for key changes.</summary>
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    public JwtOptions Jwt { get; set; } = new();

    public MtlsOptions Mtls { get; set; } = new();

    public OidcOptions Oidc { get; set; } = new();

    /// <summary>Sign-in to the dashboard through an OpenID Connect provider (authorization code flow with PKCE, as a
    /// confidential client): the id token it returns becomes the browser's session, validated on every request against
    /// the provider's keys, with Strata roles from <see cref="RoleClaim"/>. Empty <see cref="Authority"/>: off.</summary>
    public sealed class OidcOptions
    {
        public string? Authority { get; set; }

        public string? ClientId { get; set; }

        /// <summary>From a secret file or the environment (<c>Strata__Security__Oidc__ClientSecret</c>), never in code.</summary>
        public string? ClientSecret { get; set; }

        /// <summary>Requested beside <c>openid</c>; <c>roles</c> asks for the role claim where the provider defines it.</summary>
        public IList<string> Scopes { get; } = ["profile", "roles"];

        public string RoleClaim { get; set; } = "roles";

        /// <summary>The provider's name on the sign-in page.</summary>
        public string DisplayName { get; set; } = "your identity provider";

        /// <summary>False only for a provider on loopback in tests and development.</summary>
        public bool RequireHttpsMetadata { get; set; } = true;
    }

    /// <summary>Mutual TLS between the processes of the microservices topology (<c>strata up</c> turns it on).</summary>
    public sealed class MtlsOptions
    {
        /// <summary>A module process listens with TLS only and requires a certificate of the Strata CA; every process
        /// calls the others with its own certificate.</summary>
        public bool Enabled { get; set; }

        /// <summary>The CA and certificates; default <c>security/certs</c> under the data directory.</summary>
        public string? Directory { get; set; }

        /// <summary>The identity whose certificate this process uses; default the one module it hosts (or <c>gateway</c>).</summary>
        public string? Identity { get; set; }
    }

    /// <summary>An OIDC issuer: tokens it signs (keys from its JWKS) for <see cref="Audience"/> are accepted.</summary>
    public sealed class JwtOptions
    {
        /// <summary>The issuer URL (its <c>/.well-known/openid-configuration</c> names the JWKS); empty turns JWT off.</summary>
        public string? Authority { get; set; }

        public string? Audience { get; set; }

        /// <summary>False only for an issuer on loopback in tests and development.</summary>
        public bool RequireHttpsMetadata { get; set; } = true;

        /// <summary>The claim listing Strata roles (values naming a role count; <c>scope</c> values <c>strata:&lt;role&gt;</c> too).</summary>
        public string RoleClaim { get; set; } = "roles";

        /// <summary>How soon an unknown signing key (a rotation) makes the JWKS be fetched again.</summary>
        public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(5);
    }
}
