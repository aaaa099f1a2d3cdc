using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts.Tracking;
using Strata.Contracts.Training;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Modules;
using Strata.Training.Jobs;

namespace Strata.Training;

/// <summary>DI registration of the Training module (hosted in this process).</summary>
public static class TrainingModule
{
    /// <summary>The Training module: training jobs, the seed's <c>/train</c>, and <c>training.requested</c> events.</summary>
    public static ModuleDescriptor Descriptor { get; } = new()
    {
        Name = ModuleNames.Training,
        Authorization = TrainingAuthorization.Table,
        Calls = [ModuleNames.Events, ModuleNames.Data, ModuleNames.Features, ModuleNames.Registry],
        UrlPrefixes = [TrainingRoutes.Prefix, TrainingRoutes.SeedTrain],
        AddServices = c => c.Services.AddTrainingModule(),
        MapEndpoints = app => app.MapTrainingApi(),
        // A synchronous training call answers when the training ends (its client waits 30 minutes too).
        GatewayTimeout = TimeSpan.FromMinutes(30),
        // A training call runs for as long as the training does, and is never resent (not idempotent).
        AddHttpClient = (c, url) => c.Services.AddModuleHttpClient<ITrainingClient, HttpTrainingClient>(ModuleNames.Training, url,
            retryUnsafeMethods: false, c => c.Timeout = Timeout.InfiniteTimeSpan, o =>
            {
                o.AttemptTimeout.Timeout = TimeSpan.FromMinutes(30);
                o.TotalRequestTimeout.Timeout = TimeSpan.FromMinutes(30);
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(61);
                o.Retry.ShouldHandle = _ => ValueTask.FromResult(false);
            }),
    };

    public static IServiceCollection AddTrainingModule(this IServiceCollection services)
    {
        services.AddOptions<TrainingOptions>().BindConfiguration(TrainingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TrainingService>();
        services.AddSingleton(sp => new Jobs.OpenRuns(Path.Combine(sp.GetRequiredService<IOptions<StrataOptions>>().Value.ModuleDirectory(ModuleNames.Training), "open-runs"),
            sp.GetRequiredService<ITrackingClient>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<Jobs.OpenRuns>>()));
        services.AddHostedService(sp => sp.GetRequiredService<Jobs.OpenRuns>());
        services.AddSingleton(sp => new TrainingJobStore(Path.Combine(
            sp.GetRequiredService<IOptions<StrataOptions>>().Value.ModuleDirectory(ModuleNames.Training), "jobs.db")));
        services.AddSingleton<TrainingJobs>();
        services.AddHostedService(sp => sp.GetRequiredService<TrainingJobs>());
        services.AddSingleton<ITrainingClient>(sp => sp.GetRequiredService<TrainingService>());
        services.AddHostedService<TrainingRequests>();
        return services;
    }
}
