using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Microsoft.Extensions.Options;
using Strata.Contracts.Training;
using Strata.ServiceDefaults;
using Strata.Training.Jobs;

namespace Strata.Training;

/// <summary>DI registration of the Training module (hosted in this process).</summary>
public static class TrainingModule
{
    public static IServiceCollection AddTrainingModule(this IServiceCollection services)
    {
        services.AddOptions<TrainingOptions>().BindConfiguration(TrainingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TrainingService>();
        services.AddSingleton(sp => new TrainingJobStore(Path.Combine(
            sp.GetRequiredService<IOptions<StrataOptions>>().Value.ModuleDirectory(ModuleNames.Training), "jobs.db")));
        services.AddSingleton<TrainingJobs>();
        services.AddHostedService(sp => sp.GetRequiredService<TrainingJobs>());
        services.AddSingleton<ITrainingClient>(sp => sp.GetRequiredService<TrainingService>());
        services.AddHostedService<TrainingRequests>();
        services.AddOpenApi(ModuleNames.Training);
        return services;
    }
}
