using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Strata.ServiceDefaults.Modules;
using Strata.ServiceDefaults.Security;

namespace Strata.Security;

/// <summary>The one authorization table: every module's routes (<see cref="ModuleDescriptor.Authorization"/>) with the
/// permissions that admit a caller, composed from the catalog the host runs, with the routes an operator made public
/// (<c>Strata:Security:PublicRoutes</c>) open to anyone. The gateway uses it for the paths it lets through without
/// credentials.</summary>
public sealed class AccessTable
{
    private readonly Dictionary<string, RouteAuthorization> _modules;
    private readonly List<TemplateMatcher> _anonymous;

    public AccessTable(IEnumerable<ModuleDescriptor> catalog, IReadOnlyCollection<string> publicRoutes)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(publicRoutes);
        _modules = catalog.ToDictionary(m => m.Name, m =>
        {
            var table = new RouteAuthorization();
            foreach (var (route, required) in m.Authorization)
            {
                table[route] = publicRoutes.Contains(route) ? Permissions.Anonymous : required;
            }
            return table;
        }, StringComparer.Ordinal);
        var unknown = publicRoutes.Where(r => !_modules.Values.Any(t => t.ContainsKey(r))).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Strata:Security:PublicRoutes names routes no module has: {string.Join(", ", unknown)} (rows look like \"POST /predict\")");
        }
        PublicRoutes = [.. publicRoutes];
        Rows = [.. _modules.SelectMany(m => m.Value.Select(r => (Module: m.Key, Route: r.Key, Required: r.Value)))];
        _anonymous = [.. Rows.Where(r => r.Required.HasFlag(Permissions.Anonymous))
            .Select(r => r.Route[(r.Route.IndexOf(' ', StringComparison.Ordinal) + 1)..])
            .Concat(catalog.Select(m => m.OpenApiPath))
            .Concat(["/health/live", "/health/ready"])
            .Distinct(StringComparer.Ordinal)
            .Select(t => new TemplateMatcher(TemplateParser.Parse(t.TrimStart('/')), new RouteValueDictionary()))];
    }

    public IReadOnlyList<(string Module, string Route, Permissions Required)> Rows { get; }

    /// <summary>The routes the operator opened to anyone (logged at start).</summary>
    public IReadOnlyList<string> PublicRoutes { get; }

    /// <summary>A module's rows, public routes applied.</summary>
    public IReadOnlyDictionary<string, Permissions> Of(string module) => _modules[module];

    /// <summary>Whether anyone may call <paramref name="path"/>: health, the OpenAPI documents and routes the table marks
    /// anonymous (for a proxy that knows the path, not the route).</summary>
    public bool IsAnonymousPath(PathString path)
    {
        foreach (var matcher in _anonymous)
        {
            if (matcher.TryMatch(path, new RouteValueDictionary()))
            {
                return true;
            }
        }
        return false;
    }
}
