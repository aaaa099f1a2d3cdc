using Strata.Data;
using Strata.Events;
using Strata.Features;
using Microsoft.Extensions.DependencyInjection;
using Strata.Monitoring;
using Strata.Registry;
using Strata.Security;
using Strata.Samples;
using Strata.ServiceDefaults.Modules;
using Strata.Serving;
using Strata.Training;

namespace Strata.Hosting;

/// <summary>The modules of Strata, in dependency order (a module calls only modules before it). This is the one
/// composition list: the host, the gateway's routes, the OpenAPI documents, the supervisor, <c>strata serve
/// --module</c> and the test harness all loop over it. Adding a module is a project and a line here.</summary>
public static class StrataModules
{
    public static IReadOnlyList<ModuleDescriptor> All { get; } =
    [
        EventsModule.Descriptor,
        SecurityModule.Descriptor,
        DataModule.Descriptor,
        FeaturesModule.Descriptor,
        MonitoringModule.Descriptor,
        RegistryModule.Descriptor,
        TrainingModule.Descriptor,
        ServingModule.Descriptor,
    ];

    /// <summary>What the front door serves beside the modules (the web dashboard): built on the modules' clients like an
    /// application, hosted by the process that hosts the gateway (<see cref="HostSettings.Front"/>).</summary>
    public static IReadOnlyList<ModuleDescriptor> Front { get; } = [Strata.Dashboard.DashboardModule.Descriptor];

    /// <summary>The definitions a deployment runs with (feature views, training defaults): today the samples' (the seed
    /// and the fraud example), registered in every process beside its modules.</summary>
    public static IServiceCollection AddDefinitions(IServiceCollection services) => services.AddSampleDefinitions();
}
