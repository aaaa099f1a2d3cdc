using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Strata.Contracts.Training;

namespace Strata.Training;

/// <summary>DI registration of the Training module (hosted in this process).</summary>
public static class TrainingModule
{
    public static IServiceCollection AddTrainingModule(this IServiceCollection services)
    {
        services.AddSingleton<TrainingService>();
        services.AddSingleton<ITrainingClient>(sp => sp.GetRequiredService<TrainingService>());
        services.AddHostedService<TrainingRequests>();
        services.AddOpenApi(ModuleNames.Training);
        return services;
    }
}
