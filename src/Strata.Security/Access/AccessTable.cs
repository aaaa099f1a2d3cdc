using Strata.ServiceDefaults.Modules;
using Strata.ServiceDefaults.Security;

namespace Strata.Security;

/// <summary>The one authorization table: every module's routes (<see cref="ModuleDescriptor.Authorization"/>) with the
/// permissions that admit a caller, composed from the catalog the host runs. The gateway uses it for the anonymous
/// paths it lets through without credentials.</summary>
public sealed class AccessTable
{
    public AccessTable(IEnumerable<ModuleDescriptor> catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        Rows = [.. catalog.SelectMany(m => m.Authorization.Select(r => (Module: m.Name, Route: r.Key, Required: r.Value)))];
        AnonymousPaths = Rows.Where(r => r.Required.HasFlag(Permissions.Anonymous) && !r.Route.Contains('{', StringComparison.Ordinal))
            .Select(r => r.Route[(r.Route.IndexOf(' ', StringComparison.Ordinal) + 1)..])
            .Concat(catalog.Select(m => m.OpenApiPath))
            .Concat(["/health/live", "/health/ready"])
            .ToHashSet(StringComparer.Ordinal);
    }

    public IReadOnlyList<(string Module, string Route, Permissions Required)> Rows { get; }

    /// <summary>Paths anyone may call: health, the OpenAPI documents and routes the table marks anonymous.</summary>
    public IReadOnlySet<string> AnonymousPaths { get; }
}
