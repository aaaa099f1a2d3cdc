using Microsoft.Extensions.DependencyInjection;
using Strata.Features.Definitions;
using Strata.Training;

namespace Strata.Samples;

/// <summary>What the samples give a Strata deployment: the seed's and the fraud example's feature definitions (the YAML
/// files under <c>definitions/</c>, applied as version 1 to a fresh data directory) and the training defaults that make a bare
/// <c>POST /api/training/train</c> (or <c>strata train</c>) train the seed. Configuration
/// (<c>Strata:Training:Defaults:*</c>) still wins over these.</summary>
public static class SampleDefinitions
{
    public const string Label = "target";

    public static IServiceCollection AddSampleDefinitions(this IServiceCollection services)
    {
        services.AddSingleton(new InitialFeatureDefinitions(SampleFeatureRepository.Files, "the shipped examples (seed, fraud)"));
        services.PostConfigure<TrainingOptions>(o =>
        {
            o.Defaults.Dataset ??= SampleDataset.Name;
            o.Defaults.View ??= SampleFeatureRepository.SeedFeaturesName;
            o.Defaults.Label ??= Label;
            o.Defaults.Model ??= SampleDataset.Name;
        });
        return services;
    }
}
