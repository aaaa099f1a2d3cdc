using Strata.Contracts.Features;

namespace Strata.Features.Views;

/// <summary>The seed's feature engineering: <c>age</c>, <c>income</c>, <c>age_squared = age²</c> and
/// <c>income_per_age = income / age</c>. This is the only place those formulas exist.</summary>
public sealed class SeedFeatureView : FeatureView
{
    public const string ViewName = "seed_features";

    private static readonly FeatureField[] InputFields =
    [
        new("age", "float64", "Applicant age in years", ExclusiveMinimum: 0),
        new("income", "float64", "Yearly income"),
    ];

    private static readonly FeatureField[] FeatureFields =
    [
        new("age", "float64"),
        new("income", "float64"),
        new("age_squared", "float64", "age^2"),
        new("income_per_age", "float64", "income / age"),
    ];

    public override string Name => ViewName;

    public override string Version => "1";

    public override string Description => "The seed example's features: age, income, age_squared, income_per_age.";

    public override IReadOnlyList<FeatureField> Inputs => InputFields;

    public override IReadOnlyList<FeatureField> Features => FeatureFields;

    protected override void Transform(ReadOnlySpan<double> inputs, Span<double> features)
    {
        var age = inputs[0];
        var income = inputs[1];
        features[0] = age;
        features[1] = income;
        features[2] = age * age;
        features[3] = income / age;
    }
}
