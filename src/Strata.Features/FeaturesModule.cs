using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Strata.Contracts.Features;
using Strata.Features.Views;

namespace Strata.Features;

/// <summary>DI registration of the Features module (hosted in this process) and its feature views.</summary>
public static class FeaturesModule
{
    public static IServiceCollection AddFeaturesModule(this IServiceCollection services)
    {
        services.AddSingleton<FeatureView, SeedFeatureView>();
        services.AddSingleton<FeaturesService>();
        services.AddSingleton<IFeaturesClient>(sp => sp.GetRequiredService<FeaturesService>());
        services.AddOpenApi(ModuleNames.Features);
        return services;
    }
}
