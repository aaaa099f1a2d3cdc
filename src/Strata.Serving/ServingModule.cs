using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Strata.Contracts.Serving;
using Strata.Serving.Models;
using Strata.ServiceDefaults;

namespace Strata.Serving;

/// <summary>DI registration of the Serving module (hosted in this process).</summary>
public static class ServingModule
{
    public static IServiceCollection AddServingModule(this IServiceCollection services)
    {
        services.AddOptions<ServingOptions>().BindConfiguration(ServingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ModelHost>();
        services.AddHostedService<ModelRefresher>();
        services.AddHostedService<PredictionRequests>();
        services.AddSingleton<PredictionLog>();
        services.AddHostedService(sp => sp.GetRequiredService<PredictionLog>());
        services.AddSingleton<ServingService>();
        services.AddSingleton<FeatureAwarePredictor>();
        services.AddSingleton<Protocols.ServedModels>();
        services.AddSingleton<IServingClient>(sp => sp.GetRequiredService<ServingService>());
        services.AddReadinessCheck<ModelLoadedCheck>("model-loaded");
        services.AddOpenApi(ModuleNames.Serving);
        return services;
    }
}
