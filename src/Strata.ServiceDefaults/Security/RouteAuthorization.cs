namespace Strata.ServiceDefaults.Security;

/// <summary>A module's part of the one authorization table: <c>"METHOD /route/{template}"</c> (the route as mapped,
/// catch-alls as <c>{**name}</c>) to the permissions that admit a caller. A route a module maps without an entry here
/// is refused to everyone (and a test walking every OpenAPI document fails), so no route is added unprotected.</summary>
public sealed class RouteAuthorization : Dictionary<string, Permissions>
{
    public RouteAuthorization()
        : base(StringComparer.Ordinal)
    {
    }

    /// <summary>The table key of a route: the method and the route's template with one leading and no trailing slash.</summary>
    public static string Key(string method, string template)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(template);
        return $"{method.ToUpperInvariant()} /{template.Trim('/')}";
    }
}
