using Strata.Features.Definitions;
using Strata.Features.Store;
using Strata.Features.Views;

namespace Strata.Samples;

/// <summary>The feature definitions shipped with Strata, read from the YAML files under <c>definitions/</c> (embedded in
/// this assembly): the seed's users, and the fraud-detection reference system's cards (a streaming aggregate view over
/// transactions, a profile, and a 32-dimension behaviour embedding). The members below are those definitions by name.</summary>
public static class SampleFeatureRepository
{
    /// <summary>The shipped files, in the order they are applied.</summary>
    public static IReadOnlyList<DefinitionFile> Files { get; } = [File("seed.yaml"), File("fraud.yaml")];

    public static FeatureDefinitionSet Definitions { get; } = DefinitionReader.Read(Files);

    public static Entity User => Definitions.Entities.Single(e => e.Name == "user");

    public static Entity Card => Definitions.Entities.Single(e => e.Name == "card");

    public static PushSource UserProfiles => Source("user_profiles");

    public static PushSource CardTransactions => Source("card_transactions");

    public static PushSource CardProfiles => Source("card_profiles");

    public static PushSource CardEmbeddings => Source("card_embeddings");

    public static StoredFeatureView UserProfile => (StoredFeatureView)View("user_profile");

    public static AggregateFeatureView CardStats => (AggregateFeatureView)View("card_stats");

    public static StoredFeatureView CardProfile => (StoredFeatureView)View("card_profile");

    public static StoredFeatureView CardEmbedding => (StoredFeatureView)View("card_embedding");

    /// <summary>The seed's on-demand view: <c>age</c>, <c>income</c>, <c>age_squared = age * age</c>,
    /// <c>income_per_age = income / age</c>.</summary>
    public static OnDemandFeatureView SeedFeatures => Definitions.OnDemandViews.Single(v => v.Name == SeedFeaturesName);

    public const string SeedFeaturesName = "seed_features";

    public static FeatureServiceDefinition FraudDetection => Definitions.Services.Single(s => s.Name == "fraud_detection");

    public static FeatureServiceDefinition SeedModel => Definitions.Services.Single(s => s.Name == "seed_model");

    public static IEnumerable<Entity> Entities => Definitions.Entities;

    public static IEnumerable<PushSource> Sources => Definitions.Sources;

    public static IEnumerable<EntityFeatureView> Views => Definitions.Views;

    public static IEnumerable<FeatureServiceDefinition> Services => Definitions.Services;

    /// <summary>A repository of every shipped definition (as built in code, version 0).</summary>
    public static FeatureRepository Repository() => new(Definitions, 0);

    private static PushSource Source(string name) => Definitions.Sources.Single(s => s.Name == name);

    private static EntityFeatureView View(string name) => Definitions.Views.Single(v => v.Name == name);

    private static DefinitionFile File(string name)
    {
        using var stream = typeof(SampleFeatureRepository).Assembly.GetManifestResourceStream($"Strata.Samples.definitions.{name}")
            ?? throw new InvalidOperationException($"the shipped definitions file {name} is not embedded");
        using var reader = new StreamReader(stream);
        return new DefinitionFile(name, reader.ReadToEnd());
    }
}
