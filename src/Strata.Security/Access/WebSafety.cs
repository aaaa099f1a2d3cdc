using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Strata.Contracts.Errors;
using Strata.ServiceDefaults;

namespace Strata.Security;

/// <summary><c>Strata:Web</c>: which host names a request may name, and which other origins' pages may call Strata.</summary>
public sealed class WebOptions
{
    public const string Section = "Strata:Web";

    /// <summary>The <c>Host</c> values accepted (<c>*.example.com</c> and <c>*</c> allowed, ports ignored). Empty: the
    /// loopback names when Strata listens on loopback (a web page resolving its own name to 127.0.0.1, DNS rebinding, is
    /// refused), any name when it listens on the network (<c>--bind</c>; name them here to refuse the others).</summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>Origins of web pages allowed to call Strata from a browser (CORS; exact <c>scheme://host[:port]</c>).
    /// Empty (the default): CORS is off, and a state-changing request from another origin's page is refused.</summary>
    public IList<string> CorsOrigins { get; } = [];
}

/// <summary>What a web page on the same machine must not be able to do (issue 24: a page could train and move
/// <c>champion</c> with a simple cross-site POST; any <c>Host</c> was accepted). A request naming a host outside
/// <see cref="WebOptions.AllowedHosts"/> is a 400 (<c>field: Host</c>); a state-changing request (POST, PUT, PATCH,
/// DELETE) that a browser sent from another origin (its <c>Origin</c> header, which browsers always send on such
/// requests) is a 403 (<c>field: Origin</c>) unless <see cref="WebOptions.CorsOrigins"/> lists it. Clients that are not
/// browsers send no <c>Origin</c> and are unaffected. Runs before authentication: nothing else is looked at.</summary>
public sealed class WebSafety(RequestDelegate next, WebSafetyPolicy policy)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        // Behind the gateway the host is the one the gateway checked (forwarded by a trusted loopback proxy, which the
        // forwarded-headers middleware records as X-Original-Host); an empty host (HTTP/1.0) names nothing to refuse.
        if (!policy.AnyHost && request.Host.Host.Length > 0 && !request.Headers.ContainsKey("X-Original-Host")
            && !HostString.MatchesAny(new StringSegment(request.Host.Host), policy.HostPatterns))
        {
            return RefuseAsync(context, StatusCodes.Status400BadRequest, "Host",
                $"'{request.Host}' is not a name this Strata answers to (Strata:Web:AllowedHosts: {string.Join(", ", policy.Hosts)})");
        }
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsOptions(request.Method)
            && request.Headers.Origin is { Count: > 0 } origin && !policy.Allows(origin.ToString(), request))
        {
            return RefuseAsync(context, StatusCodes.Status403Forbidden, "Origin",
                $"a cross-site request from '{origin}' is refused: allow the origin in Strata:Web:CorsOrigins");
        }
        return next(context);
    }

    private static Task RefuseAsync(HttpContext context, int status, string field, string reason)
    {
        Exception error = status == StatusCodes.Status400BadRequest ? new InputValidationException(field, reason) : new AccessDeniedException(true, reason);
        var result = context.GetEndpoint()?.Metadata.GetMetadata<IErrorShape>()?.Translate(error, context)
            ?? TypedResults.Problem(detail: reason, statusCode: status, title: status == StatusCodes.Status400BadRequest ? "Invalid request" : "Forbidden",
                extensions: new Dictionary<string, object?> { ["field"] = field });
        return result.ExecuteAsync(context);
    }
}

/// <summary>The host names and origins of <see cref="WebOptions"/>, resolved once for the address the process listens on.</summary>
public sealed class WebSafetyPolicy
{
    private static readonly string[] LoopbackNames = ["localhost", "127.0.0.1", "[::1]", "::1"];

    public WebSafetyPolicy(IOptions<WebOptions> options, bool listensOnLoopback)
    {
        ArgumentNullException.ThrowIfNull(options);
        Hosts = options.Value.AllowedHosts.Count > 0 ? [.. options.Value.AllowedHosts] : listensOnLoopback ? LoopbackNames : ["*"];
        AnyHost = Hosts.Contains("*");
        HostPatterns = [.. Hosts.Select(h => new StringSegment(h))];
        Origins = options.Value.CorsOrigins.Select(o => o.TrimEnd('/')).ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyList<string> Hosts { get; }

    public bool AnyHost { get; }

    public IList<StringSegment> HostPatterns { get; }

    public IReadOnlySet<string> Origins { get; }

    /// <summary>A listed origin, or the request's own (a page Strata served calling it back).</summary>
    public bool Allows(string origin, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Origins.Contains(origin)
            || (Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme == request.Scheme
                && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
    }
}
