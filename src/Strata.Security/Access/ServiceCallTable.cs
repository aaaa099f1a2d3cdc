using Strata.Contracts;
using Strata.ServiceDefaults.Modules;

namespace Strata.Security;

/// <summary>The service-to-service authorization table of the microservices topology, from the module descriptors: a
/// module's routes answer the gateway (which proxies users' requests) and the modules that declare they call it
/// (<see cref="ModuleDescriptor.Calls"/>); the Security and Events modules answer every process (keys and the audit log);
/// a module's <see cref="ModuleDescriptor.RestrictedCallers"/> narrow single routes (serving's scoring: the gateway only).
/// The supervisor's identity is in none of them: it may call the health endpoints, which answer any Strata service.</summary>
public sealed class ServiceCallTable
{
    private readonly Dictionary<string, IReadOnlySet<string>> _defaults;
    private readonly Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>> _restricted;

    public ServiceCallTable(IReadOnlyList<ModuleDescriptor> catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var everyProcess = catalog.Select(m => m.Name).Append(ModuleNames.Gateway).ToHashSet(StringComparer.Ordinal);
        _defaults = catalog.ToDictionary(m => m.Name, m => (IReadOnlySet<string>)(m.Name is ModuleNames.Security or ModuleNames.Events
            ? everyProcess
            : catalog.Where(c => c.Calls.Contains(m.Name)).Select(c => c.Name).Append(ModuleNames.Gateway).ToHashSet(StringComparer.Ordinal)), StringComparer.Ordinal);
        _restricted = catalog.ToDictionary(m => m.Name, m => m.RestrictedCallers, StringComparer.Ordinal);
    }

    /// <summary>The identities that may call <paramref name="module"/>'s route with table key <c>route</c>.</summary>
    public Func<string, IReadOnlySet<string>> Of(string module) => route =>
        _restricted[module].TryGetValue(route, out var only) ? only.ToHashSet(StringComparer.Ordinal) : _defaults[module];

    /// <summary>The identities that may call one route (for the security API and tests).</summary>
    public IReadOnlySet<string> CallersOf(string module, string route) => Of(module)(route);
}
