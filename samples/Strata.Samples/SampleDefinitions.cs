using Microsoft.Extensions.DependencyInjection;
using Strata.Features.Views;
using Strata.Training;

namespace Strata.Samples;

/// <summary>What the samples give a Strata deployment: the seed's and the fraud example's feature definitions (entities,
/// sources, views, services, the seed's on-demand view) and the training defaults that make a bare
/// <c>POST /api/training/train</c> (or <c>strata train</c>) train the seed. Configuration
/// (<c>Strata:Training:Defaults:*</c>) still wins over these.</summary>
public static class SampleDefinitions
{
    public const string Label = "target";

    public static IServiceCollection AddSampleDefinitions(this IServiceCollection services)
    {
        services.AddSingleton<OnDemandFeatureView, SeedFeatureView>();
        foreach (var entity in SampleFeatureRepository.Entities)
        {
            services.AddSingleton(entity);
        }
        foreach (var source in SampleFeatureRepository.Sources)
        {
            services.AddSingleton(source);
        }
        foreach (var view in SampleFeatureRepository.Views)
        {
            services.AddSingleton(view);
        }
        foreach (var service in SampleFeatureRepository.Services)
        {
            services.AddSingleton(service);
        }
        services.PostConfigure<TrainingOptions>(o =>
        {
            o.Defaults.Dataset ??= SampleDataset.Name;
            o.Defaults.View ??= SeedFeatureView.ViewName;
            o.Defaults.Label ??= Label;
            o.Defaults.Model ??= SampleDataset.Name;
        });
        return services;
    }
}
