using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;

namespace Strata.ServiceDefaults.Security;

/// <summary>Puts each endpoint's row of the authorization table on it as <see cref="AccessRule"/> metadata, once, when
/// endpoints are built: the request path then only reads metadata.</summary>
public static class AccessConventions
{
    /// <summary>Every endpoint mapped under <paramref name="builder"/> gets its rule from <paramref name="table"/>; one
    /// missing from the table gets a rule nobody satisfies.</summary>
    public static TBuilder RequireAccess<TBuilder>(this TBuilder builder, IReadOnlyDictionary<string, Permissions> table)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(table);
        builder.Add(endpoint =>
        {
            if (endpoint is not RouteEndpointBuilder route || endpoint.Metadata.OfType<AccessRule>().Any())
            {
                return;
            }
            var keys = Keys(route);
            var found = keys.Select(k => table.TryGetValue(k, out var p) ? p : (Permissions?)null).ToList();
            endpoint.Metadata.Add(found.All(p => p is not null) && found.Distinct().Count() == 1
                ? new AccessRule(found[0]!.Value, keys[0])
                : new AccessRule(Permissions.None, keys[0], Listed: false));
        });
        return builder;
    }

    /// <summary>Every endpoint mapped under <paramref name="builder"/> answers, over mutual TLS, only the service identities
    /// <paramref name="callersOf"/> gives for its table key.</summary>
    public static TBuilder RequireCallers<TBuilder>(this TBuilder builder, Func<string, IReadOnlySet<string>> callersOf)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(callersOf);
        builder.Add(endpoint =>
        {
            if (endpoint is not RouteEndpointBuilder route || endpoint.Metadata.OfType<CallerRule>().Any()
                || endpoint.Metadata.OfType<AccessRule>().LastOrDefault() is { IsAnonymous: true })
            {
                return;
            }
            var key = Keys(route)[0];
            endpoint.Metadata.Add(new CallerRule(callersOf(key), key));
        });
        return builder;
    }

    /// <summary>The table keys of a route: one per method; a catch-all mapped for every method (answering unknown paths in
    /// a protocol's shape) is the row "ANY &lt;route&gt;".</summary>
    private static List<string> Keys(RouteEndpointBuilder route)
    {
        var template = route.RoutePattern.RawText ?? string.Empty;
        var methods = route.Metadata.OfType<IHttpMethodMetadata>().LastOrDefault()?.HttpMethods is { Count: > 0 } listed ? listed : ["ANY"];
        return [.. methods.Select(m => RouteAuthorization.Key(m, template))];
    }

    /// <summary>No credentials needed (health, OpenAPI documents).</summary>
    public static TBuilder AllowAnonymousAccess<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(AccessRule.AnonymousRule);
}
