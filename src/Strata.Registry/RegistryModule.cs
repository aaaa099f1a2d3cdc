using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Strata.Contracts;
using Strata.Contracts.Events;
using Strata.Contracts.Registry;
using Strata.Contracts.Tracking;
using Strata.Registry.Artifacts;
using Strata.Registry.Storage;
using Strata.ServiceDefaults.Sql;
using Strata.Registry.Tracking;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Modules;

namespace Strata.Registry;

/// <summary>DI registration of the Registry module (hosted in this process).</summary>
public static class RegistryModule
{
    /// <summary>The Registry module: its REST API and the MLflow-compatible tracking and registry API.</summary>
    public static ModuleDescriptor Descriptor { get; } = new()
    {
        Name = ModuleNames.Registry,
        Authorization = RegistryAuthorization.Table,
        Calls = [ModuleNames.Events, ModuleNames.Monitoring],
        UrlPrefixes = [RegistryRoutes.Prefix, RolloutRoutes.Prefix, ExperimentRoutes.Prefix, MlflowRoutes.Prefix, MlflowArtifactsApi.Prefix],
        ErrorShapes = new Dictionary<string, IErrorShape> { [MlflowRoutes.Prefix] = MlflowErrorShape.Instance, [MlflowArtifactsApi.Prefix] = MlflowErrorShape.Instance },
        AddServices = c => c.Services.AddRegistryModule(),
        MapEndpoints = app =>
        {
            app.MapRegistryApi();
            app.MapMlflowApi();
            app.MapMlflowArtifactsApi();
        },
        AddHttpClient = (c, url) =>
        {
            // Registering a version is not idempotent: a POST that may have landed is never resent.
            c.Services.AddModuleHttpClient<IRegistryClient, HttpRegistryClient>(ModuleNames.Registry, url, retryUnsafeMethods: false);
            c.Services.AddModuleHttpClient<IRolloutsClient, HttpRolloutsClient>(ModuleNames.Registry, url, retryUnsafeMethods: false);
            c.Services.AddModuleHttpClient<IExperimentsClient, HttpExperimentsClient>(ModuleNames.Registry, url, retryUnsafeMethods: false);
            // The tracking half of the Registry, on its MLflow-compatible API.
            c.Services.AddModuleHttpClient<ITrackingClient, MlflowClient>(ModuleNames.Registry, url, retryUnsafeMethods: false);
        },
    };

    public static IServiceCollection AddRegistryModule(this IServiceCollection services)
    {
        services.AddOptions<RegistryOptions>().BindConfiguration(RegistryOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Store != "postgres" || !string.IsNullOrWhiteSpace(o.Postgres), "Strata:Registry:Postgres is required when the store is postgres")
            .ValidateOnStart();
        services.AddSingleton<IOutboxStore>(sp => sp.GetRequiredService<IRegistryStore>());
        services.AddSingleton<IRegistryStore>(sp => new SqlRegistryStore(Dialect(sp, "registry.db")));
        services.AddSingleton(sp =>
            new ArtifactStore(Path.Combine(sp.GetRequiredService<IOptions<StrataOptions>>().Value.ModuleDirectory(ModuleNames.Registry), "artifacts")));
        services.AddSingleton<ITrackingStore>(sp => new SqlTrackingStore(Dialect(sp, "tracking.db"), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<MlflowModelSources>();
        services.AddSingleton<ITrackingClient, TrackingClient>();
        services.AddSingleton<RegistryService>();
        services.AddSingleton<IRegistryClient>(sp => sp.GetRequiredService<RegistryService>());
        services.AddSingleton<Rollouts.RolloutService>();
        services.AddSingleton<IRolloutsClient>(sp => sp.GetRequiredService<Rollouts.RolloutService>());
        services.AddSingleton<Rollouts.RolloutController>();
        services.AddSingleton<Experiments.ExperimentService>();
        services.AddSingleton<IExperimentsClient>(sp => sp.GetRequiredService<Experiments.ExperimentService>());
        // The schema first: hosted services start in this order, and the controller's first tick reads the rollouts table
        // (registered the other way round, a fresh data directory logged "no such table: rollouts").
        services.AddHostedService<RegistryInitializer>();
        services.AddHostedService(sp => sp.GetRequiredService<Rollouts.RolloutController>());
        return services;
    }

    /// <summary>Each store's own dialect (its own connection pool or file).</summary>
    private static SqlDialect Dialect(IServiceProvider sp, string sqliteFile)
    {
        var options = sp.GetRequiredService<IOptions<RegistryOptions>>().Value;
        return options.Store == "postgres"
            ? SqlDialect.Postgres(options.Postgres!)
            : SqlDialect.Sqlite(Path.Combine(sp.GetRequiredService<IOptions<StrataOptions>>().Value.ModuleDirectory(ModuleNames.Registry), sqliteFile));
    }

    /// <summary>Creates the schema before the process accepts requests.</summary>
    private sealed class RegistryInitializer(IRegistryStore store, ITrackingStore tracking) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await store.InitializeAsync(cancellationToken);
            await tracking.InitializeAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
