using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.Tokens;
using Strata.Contracts.Errors;
using Strata.Contracts.Security;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Security;

namespace Strata.Security;

/// <summary>Authentication and authorization of every request, after routing: an endpoint's <see cref="AccessRule"/>
/// says what it needs; the caller is authenticated by API key (or the service token) or by a JWT from the configured
/// issuer; no valid credentials is a 401 with <c>WWW-Authenticate</c>, credentials without the permission a 403, both
/// in the endpoint's error shape (problem+json, MLflow's, the inference protocols'). Allowed and forbidden requests to
/// state-changing routes are written to the audit log.</summary>
public sealed class AccessMiddleware(RequestDelegate next, AccessTable table, RequestAuditor auditor, SecurityRuntime runtime, CredentialValidator validator,
    IBrowserSessions sessions)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        var rule = endpoint?.Metadata.GetMetadata<AccessRule>();
        // Anonymous rules: health, OpenAPI. A request without a rule (no endpoint: a 404 to come; a proxied route at the
        // gateway, whose module checks the permission) needs a principal unless its path is anonymous: without
        // credentials, a process tells nothing, not even which paths exist.
        if (rule is { IsAnonymous: true } || (rule is null && table.IsAnonymousPath(context.Request.Path)))
        {
            await next(context);
            return;
        }
        // Over mutual TLS the caller is a Strata service the handshake authenticated: the service-to-service table says
        // whether that service may call this route at all, whoever it acts for.
        if (runtime.InboundTls is { } tls && endpoint?.Metadata.GetMetadata<CallerRule>() is { } callers)
        {
            var caller = tls.IdentityOf(context.Connection.ClientCertificate);
            if (caller is null || !callers.Callers.Contains(caller))
            {
                var reason = $"the service '{caller ?? "unknown"}' may not call {callers.Route} (callers: {string.Join(", ", callers.Callers.Order(StringComparer.Ordinal))})";
                if (rule is { Audited: true })
                {
                    // Audited as the service its certificate names: that is who asked.
                    context.User = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
                        [new(System.Security.Claims.ClaimTypes.Name, $"service:{caller ?? "unknown"}"), new(StrataClaims.Kind, "certificate")], "mtls"));
                    await auditor.RecordAsync(context, rule, "forbidden", StatusCodes.Status403Forbidden);
                }
                await DenyAsync(context, endpoint, new AccessDeniedException(true, reason), null);
                return;
            }
        }
        var (principal, failure, presented) = await AuthenticateAsync(context);
        if (principal is null)
        {
            await DenyAsync(context, endpoint, new AccessDeniedException(false, failure!), presented ? failure : null);
            return;
        }
        context.User = principal;
        var required = rule?.Required ?? Permissions.Authenticated;
        var held = StrataClaims.PermissionsOf(principal);
        if (rule is { Listed: false } || (held & required) == 0)
        {
            var reason = rule is { Listed: false }
                ? $"{rule.Route} is not in the authorization table, so nobody may call it"
                : $"{context.Request.Method} {context.Request.Path} needs the permission {StrataRoles.Name(required)}, held by the roles {string.Join(", ", RolesHolding(required))}";
            if (rule is not null && rule.Audited)
            {
                await auditor.RecordAsync(context, rule, "forbidden", StatusCodes.Status403Forbidden);
            }
            await DenyAsync(context, endpoint, new AccessDeniedException(true, reason), null);
            return;
        }
        if (rule is { Audited: true } && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            try
            {
                await next(context);
            }
            finally
            {
                await auditor.RecordAsync(context, rule, "allowed", context.Response.StatusCode);
            }
            return;
        }
        await next(context);
    }

    private static IEnumerable<string> RolesHolding(Permissions required) =>
        StrataRoles.Grantable.Where(r => (r.Value & required) != 0).Select(r => r.Key);

    private async Task<(System.Security.Claims.ClaimsPrincipal? Principal, string? Failure, bool Presented)> AuthenticateAsync(HttpContext context)
    {
        var credential = CredentialValidator.PresentedCredential(context.Request);
        var fromSession = false;
        // Pages for browsers also accept the session cookie of a sign-in (the API does not: see IBrowserSessions).
        if (credential is null && context.GetEndpoint()?.Metadata.GetMetadata<BrowserPage>() is not null && sessions.CredentialOf(context) is { } kept)
        {
            credential = kept;
            fromSession = true;
        }
        if (credential is null)
        {
            return (null, $"credentials are required: send 'Authorization: Bearer <key>' (or {SecurityRoutes.ApiKeyHeader})", false);
        }
        if (fromSession && credential.StartsWith(BrowserSignIn.OidcCredentialPrefix, StringComparison.Ordinal))
        {
            // An OIDC sign-in's id token: checked against the provider's keys, for the dashboard's client id.
            context.Request.Headers.Authorization = "Bearer " + credential[BrowserSignIn.OidcCredentialPrefix.Length..];
            if (sessions.OidcProvider is null)
            {
                return (null, "sign-in through an identity provider is no longer configured: sign in with a key", true);
            }
            var session = await context.AuthenticateAsync(ApiKeyAuthentication.OidcSessionScheme);
            return session.Succeeded ? (session.Principal, null, true) : (null, "the sign-in has expired: sign in again", true);
        }
        if (runtime.JwtEnabled && !credential.StartsWith(Strata.Security.ApiKeys.ApiKeyFormat.Prefix, StringComparison.Ordinal)
            && !credential.StartsWith(ServiceToken.Prefix, StringComparison.Ordinal) && (context.Request.Headers.Authorization.Count > 0 || fromSession))
        {
            if (fromSession)
            {
                // The JWT handler reads the token from the Authorization header.
                context.Request.Headers.Authorization = "Bearer " + credential;
            }
            var result = await context.AuthenticateAsync(ApiKeyAuthentication.JwtScheme);
            return result.Succeeded ? (result.Principal, null, true) : (null, JwtReason(result.Failure), true);
        }
        var (principal, failure) = validator.Validate(credential);
        return (principal, failure, true);
    }

    /// <summary>What a refused token is told: the kind of failure, not the library's message (which can quote the token).</summary>
    private static string JwtReason(Exception? failure) => failure switch
    {
        SecurityTokenExpiredException => "the token has expired",
        SecurityTokenNotYetValidException => "the token is not valid yet",
        SecurityTokenSignatureKeyNotFoundException => "the token is signed with a key the issuer does not publish",
        SecurityTokenInvalidSignatureException => "the token's signature is invalid",
        SecurityTokenInvalidAudienceException => "the token is for another audience",
        SecurityTokenInvalidIssuerException => "the token is from another issuer",
        null => "the token is not valid",
        _ => "the token is not valid for this Strata",
    };

    private static async Task DenyAsync(HttpContext context, Endpoint? endpoint, AccessDeniedException denied, string? invalidToken)
    {
        if (!denied.Authenticated)
        {
            context.Response.Headers.WWWAuthenticate = invalidToken is null
                ? "Bearer realm=\"strata\""
                : $"Bearer realm=\"strata\", error=\"invalid_token\", error_description=\"{invalidToken.Replace("\"", "'", StringComparison.Ordinal)}\"";
        }
        var result = endpoint?.Metadata.GetMetadata<IErrorShape>()?.Translate(denied, context) ?? TypedResults.Problem(
            title: denied.Authenticated ? "Forbidden" : "Unauthorized",
            detail: denied.Message,
            statusCode: denied.Status);
        await result.ExecuteAsync(context);
    }
}
