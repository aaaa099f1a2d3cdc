using Strata.Contracts;
using Strata.Contracts.Features;
using Strata.Features.Views;

namespace Strata.Samples;

/// <summary>The seed's feature engineering: <c>age</c>, <c>income</c>, <c>age_squared = age²</c> and
/// <c>income_per_age = income / age</c>. This is the only place those formulas exist.</summary>
public sealed class SeedFeatureView : OnDemandFeatureView
{
    public const string ViewName = "seed_features";

    private static readonly FeatureField[] InputFields =
    [
        new("age", LogicalType.Float64, "Applicant age in years", ExclusiveMinimum: 0),
        new("income", LogicalType.Float64, "Yearly income"),
    ];

    private static readonly FeatureDefinition[] Definitions =
    [
        FeatureDefinition.Of("age", (double age) => age),
        FeatureDefinition.Of("income", (double income) => income),
        FeatureDefinition.Of("age_squared", (double age) => age * age, "age^2"),
        FeatureDefinition.Of("income_per_age", (double income, double age) => income / age, "income / age"),
    ];

    public override string Name => ViewName;

    public override string Description => "The seed example's features: age, income, age_squared, income_per_age.";

    public override IReadOnlyList<FeatureField> Inputs => InputFields;

    public override IReadOnlyList<FeatureDefinition> Features => Definitions;

    /// <summary>Given only a <c>user_id</c>, <c>age</c> and <c>income</c> come from the <c>user_profile</c> view.</summary>
    public override IReadOnlyList<string> Sources => [SampleFeatureRepository.UserProfile.Name];
}
