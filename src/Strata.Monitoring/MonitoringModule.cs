using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Strata.Contracts;
using Strata.Contracts.Monitoring;
using Strata.Monitoring.Storage;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Modules;
using Strata.ServiceDefaults.Sql;

namespace Strata.Monitoring;

/// <summary>DI registration of the Monitoring module: the prediction log joined to outcomes, per-version performance.</summary>
public static class MonitoringModule
{
    public static ModuleDescriptor Descriptor { get; } = new()
    {
        Name = ModuleNames.Monitoring,
        Authorization = MonitoringAuthorization.Table,
        // The registry: each version's training baseline and holdout metrics (drift, degraded performance); data: which
        // dataset is newer, for the retraining policy.
        Calls = [ModuleNames.Events, ModuleNames.Registry, ModuleNames.Data],
        UrlPrefixes = [MonitoringRoutes.Prefix],
        AddServices = c => c.Services.AddMonitoringModule(),
        MapEndpoints = app => app.MapMonitoringApi(),
        AddHttpClient = (c, url) => c.Services.AddModuleHttpClient<IMonitoringClient, HttpMonitoringClient>(ModuleNames.Monitoring, url, retryUnsafeMethods: true),
    };

    public static IServiceCollection AddMonitoringModule(this IServiceCollection services)
    {
        services.AddOptions<MonitoringOptions>().BindConfiguration(MonitoringOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Store != "postgres" || !string.IsNullOrWhiteSpace(o.Postgres), "Strata:Monitoring:Postgres is required when the store is postgres")
            .ValidateOnStart();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<MonitoringOptions>>().Value;
            return new SqlMonitoringStore(options.Store == "postgres"
                ? SqlDialect.Postgres(options.Postgres!)
                : SqlDialect.Sqlite(Path.Combine(sp.GetRequiredService<IOptions<StrataOptions>>().Value.ModuleDirectory(ModuleNames.Monitoring), "monitoring.db")));
        });
        services.AddSingleton<MonitoringService>();
        services.AddSingleton<IMonitoringClient>(sp => sp.GetRequiredService<MonitoringService>());
        services.AddHostedService<MonitoringInitializer>();
        services.AddHostedService<OutcomeRecorder>();
        services.AddSingleton<MonitoringAlerts>();
        services.AddHostedService(sp => sp.GetRequiredService<MonitoringAlerts>());
        return services;
    }

    /// <summary>Creates the schema before the process accepts requests.</summary>
    private sealed class MonitoringInitializer(SqlMonitoringStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
