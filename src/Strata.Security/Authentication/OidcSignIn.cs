using System.Globalization;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Strata.ServiceDefaults.Security;

namespace Strata.Security;

/// <summary>The dashboard's sign-in through an OpenID Connect provider, with ASP.NET Core's OpenID Connect handler:
/// authorization code flow with PKCE as a confidential client, the answer by query (a top-level GET back to Strata:
/// no cross-site POST for the <c>Origin</c> check to refuse, and <c>SameSite=Lax</c> correlation cookies suffice).
/// The id token it redeems becomes the session (<see cref="BrowserSessions.KeepOidc"/>); every later request validates
/// it again with a JWT bearer scheme for the client id (<see cref="ApiKeyAuthentication.OidcSessionScheme"/>), roles from
/// the configured claim. Registered only in the process serving the dashboard.</summary>
public static partial class OidcSignIn
{
    public static void Add(IServiceCollection services, SecurityOptions.OidcOptions oidc)
    {
        ArgumentNullException.ThrowIfNull(oidc);
        if (string.IsNullOrWhiteSpace(oidc.ClientId) || string.IsNullOrWhiteSpace(oidc.ClientSecret))
        {
            throw new ArgumentException("Strata:Security:Oidc:Authority is set: Strata:Security:Oidc:ClientId and ClientSecret are required too");
        }
        var session = new SecurityOptions.JwtOptions
        {
            Authority = oidc.Authority,
            Audience = oidc.ClientId,
            RequireHttpsMetadata = oidc.RequireHttpsMetadata,
            RoleClaim = oidc.RoleClaim,
        };
        services.AddAuthentication()
            .AddJwtBearer(ApiKeyAuthentication.OidcSessionScheme, o => JwtRoles.Configure(o, session))
            .AddOpenIdConnect(BrowserSignIn.OidcScheme, o =>
            {
                o.Authority = oidc.Authority;
                o.ClientId = oidc.ClientId;
                o.ClientSecret = oidc.ClientSecret;
                o.RequireHttpsMetadata = oidc.RequireHttpsMetadata;
                o.ResponseType = OpenIdConnectResponseType.Code;
                o.ResponseMode = OpenIdConnectResponseMode.Query;
                o.UsePkce = true;
                o.CallbackPath = BrowserSignIn.CallbackPath;
                o.Scope.Clear();
                o.Scope.Add("openid");
                foreach (var scope in oidc.Scopes)
                {
                    o.Scope.Add(scope);
                }
                o.MapInboundClaims = false;
                o.GetClaimsFromUserInfoEndpoint = false;
                o.SaveTokens = false;
                o.CorrelationCookie.SameSite = SameSiteMode.Lax;
                o.NonceCookie.SameSite = SameSiteMode.Lax;
                o.CorrelationCookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
                o.NonceCookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
                o.Events = new OpenIdConnectEvents
                {
                    OnTokenValidated = c =>
                    {
                        var idToken = c.TokenEndpointResponse?.IdToken ?? c.ProtocolMessage.IdToken;
                        var expires = long.TryParse(c.Principal?.FindFirst("exp")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var exp)
                            ? DateTimeOffset.FromUnixTimeSeconds(exp)
                            : DateTimeOffset.MaxValue;
                        c.HttpContext.RequestServices.GetRequiredService<BrowserSessions>().KeepOidc(c.HttpContext, idToken!, expires);
                        c.HandleResponse();
                        c.Response.Redirect(c.Properties?.RedirectUri is { Length: > 0 } next ? next : "/ui");
                        return Task.CompletedTask;
                    },
                    OnRemoteFailure = c =>
                    {
                        // The reason goes to the log; the page says only that it failed (a query string is not a place for
                        // text another site could write).
                        LogSignInFailed(c.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OidcSignIn)),
                            c.Failure?.Message ?? "unknown");
                        c.HandleResponse();
                        c.Response.Redirect("/ui/sign-in?failure=oidc");
                        return Task.CompletedTask;
                    },
                };
            });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "dashboard sign-in through the identity provider failed: {Reason}")]
    private static partial void LogSignInFailed(ILogger logger, string reason);
}
