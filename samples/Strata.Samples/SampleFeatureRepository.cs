using Strata.Contracts;
using Strata.Contracts.Features;
using Strata.Features.Store;
using Strata.Features.Views;

namespace Strata.Samples;

/// <summary>The feature store's definitions shipped with Strata: the seed's users and the fraud-detection reference
/// system's cards (a streaming aggregate view over transactions, a profile, and a 32-dimension behaviour embedding).</summary>
public static class SampleFeatureRepository
{
    public static readonly Entity User = new("user", [new FeatureField("user_id", LogicalType.Int64, "User id")], "A user of the seed example");

    public static readonly Entity Card = new("card", [new FeatureField("card_id", LogicalType.String, "Card id")], "A payment card");

    public static readonly PushSource UserProfiles = new("user_profiles", User.Name,
        [new("age", LogicalType.Float64, "Age in years"), new("income", LogicalType.Float64, "Yearly income")],
        "User profile updates");

    public static readonly PushSource CardTransactions = new("card_transactions", Card.Name,
        [new("amount", LogicalType.Float64, "Transaction amount"), new("merchant_category", LogicalType.String, "Merchant category code")],
        "Card transactions as they happen (also streamed on the 'card.transactions' topic)")
    { Topic = "card.transactions" };

    public static readonly PushSource CardProfiles = new("card_profiles", Card.Name,
        [
            new("credit_limit", LogicalType.Float64, "Credit limit"),
            new("account_age_days", LogicalType.Int64, "Days since the account was opened"),
            new("country", LogicalType.String, "Issuing country"),
            new("is_business", LogicalType.Bool, "Business card"),
        ],
        "Card profile snapshots");

    public static readonly PushSource CardEmbeddings = new("card_embeddings", Card.Name,
        [.. Enumerable.Range(0, 32).Select(i => new FeatureField($"emb_{i:00}", LogicalType.Float64))],
        "Nightly behaviour embeddings of cards");

    public static readonly StoredFeatureView UserProfile = new("user_profile", User.Name, UserProfiles.Name, UserProfiles.Columns,
        "Age and income of a user (the inputs of the seed's features)")
    { Owner = "seed" };

    public static readonly AggregateFeatureView CardStats = new("card_stats", Card.Name, CardTransactions.Name,
        [
            new("amount", AggregationFunction.Count, TimeSpan.FromMinutes(10)),
            new("amount", AggregationFunction.Sum, TimeSpan.FromMinutes(10)),
            new("amount", AggregationFunction.Mean, TimeSpan.FromMinutes(10)),
            new("amount", AggregationFunction.Max, TimeSpan.FromMinutes(10)),
            new("amount", AggregationFunction.Count, TimeSpan.FromHours(1)),
            new("amount", AggregationFunction.Sum, TimeSpan.FromHours(1)),
            new("amount", AggregationFunction.Mean, TimeSpan.FromHours(1)),
            new("amount", AggregationFunction.Min, TimeSpan.FromHours(1)),
            new("amount", AggregationFunction.Max, TimeSpan.FromHours(1)),
            new("amount", AggregationFunction.Count, TimeSpan.FromHours(24)),
            new("amount", AggregationFunction.Sum, TimeSpan.FromHours(24)),
            new("amount", AggregationFunction.Mean, TimeSpan.FromHours(24)),
            new("amount", AggregationFunction.Min, TimeSpan.FromHours(24)),
            new("amount", AggregationFunction.Max, TimeSpan.FromHours(24)),
        ],
        "Sliding-window spend statistics per card (10 min, 1 h, 24 h)")
    { Owner = "fraud", Tags = new Dictionary<string, string> { ["team"] = "fraud" } };

    public static readonly StoredFeatureView CardProfile = new("card_profile", Card.Name, CardProfiles.Name, CardProfiles.Columns,
        "Card profile; a profile older than 30 days is not served")
    { Ttl = TimeSpan.FromDays(30), Owner = "fraud", Tags = new Dictionary<string, string> { ["team"] = "fraud" } };

    public static readonly StoredFeatureView CardEmbedding = new("card_embedding", Card.Name, CardEmbeddings.Name, CardEmbeddings.Columns,
        "32-dimension behaviour embedding of a card; older than 2 days is not served")
    { Ttl = TimeSpan.FromDays(2), Owner = "fraud" };

    public static readonly FeatureServiceDefinition FraudDetection = new("fraud_detection",
        [CardStats.Name, CardProfile.Name, CardEmbedding.Name], "Every card feature the fraud model reads (50 features)");

    public static readonly FeatureServiceDefinition SeedModel = new("seed_model", [SeedFeatureView.ViewName],
        "The seed model's features, computed from a user's profile (or from age and income in the request)");

    public static IEnumerable<Entity> Entities => [User, Card];

    public static IEnumerable<PushSource> Sources => [UserProfiles, CardTransactions, CardProfiles, CardEmbeddings];

    public static IEnumerable<EntityFeatureView> Views => [UserProfile, CardStats, CardProfile, CardEmbedding];

    public static IEnumerable<FeatureServiceDefinition> Services => [FraudDetection, SeedModel];
}
