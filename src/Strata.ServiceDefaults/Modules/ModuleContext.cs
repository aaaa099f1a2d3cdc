using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Strata.ServiceDefaults.Modules;

/// <summary>What a module's registration sees of the process it is added to.</summary>
/// <param name="Services">The process's service collection.</param>
/// <param name="Configuration">The process's configuration.</param>
/// <param name="ProcessName">Names the process (<c>monolith</c>, or the modules it hosts joined by <c>+</c>); the
/// source of the events it publishes is <c>/strata/{ProcessName}</c>.</param>
public sealed record ModuleContext(IServiceCollection Services, IConfiguration Configuration, string ProcessName);
