using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Features.Views;
using Strata.Samples;

namespace Strata.Features.Tests;

public class SeedFeatureViewTests
{
    private readonly OnDemandFeatureView _view = SampleFeatureRepository.SeedFeatures;

    [Fact]
    public void Compute_SeedRow_YieldsSeedFeatures()
    {
        Assert.Equal([35, 50000, 1225, 50000 / 35.0], _view.Compute([35, 50000]));
    }

    [Theory]
    [InlineData(0, 1, "age")]
    [InlineData(-3, 1, "age")]
    [InlineData(double.NaN, 1, "age")]
    [InlineData(30, double.PositiveInfinity, "income")]
    public void Compute_InvalidInput_ThrowsNamingInput(double age, double income, string field)
    {
        var error = Assert.Throws<InputValidationException>(() => _view.Compute([age, income]));
        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void Compute_WrongArity_Throws() =>
        Assert.Equal("inputs", Assert.Throws<InputValidationException>(() => _view.Compute([1])).Field);

    [Fact]
    public void Info_ListsInputsAndFeaturesInOrder()
    {
        var info = _view.Info;
        Assert.Equal(["age", "income"], info.Inputs.Select(i => i.Name));
        Assert.Equal(["age", "income", "age_squared", "income_per_age"], info.Features.Select(f => f.Name));
        Assert.Equal(0, info.Inputs[0].ExclusiveMinimum);
        Assert.Equal("(income / age)", info.Features[3].Expression!.ToString());
        Assert.Matches("^[0-9a-f]{12}$", info.Version);
    }

    [Fact]
    public void Info_Version_ChangesWhenAFormulaChanges()
    {
        Assert.Equal(SampleFeatureRepository.Repository().FindOnDemand("seed_features")!.Info.Version, _view.Info.Version);
        Assert.NotEqual(_view.Info.Version, new AlteredView().Info.Version);
    }

    [Fact]
    public void FeatureExpressionWriter_NonArithmetic_IsRefused()
    {
        Assert.Throws<NotSupportedException>(() => FeatureDefinition.Of("bad", (double age) => double.Parse(age.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture)).ToField());
        Assert.Throws<NotSupportedException>(() => FeatureDefinition.Of("bad", (double age) => age > 3 ? 1 : 0).ToField());
    }

    [Fact]
    public void FeatureExpressionWriter_MathFunctions_RoundTripThroughTheCompiler()
    {
        var view = new AlteredView();
        var features = view.Compute([4, 9]);
        Assert.Equal([Math.Sqrt(4) + Math.Pow(9, 2) - Math.Log(4), Math.Max(-4, Math.Abs(-9 / 4.0))], features);
    }

    private sealed class AlteredView : OnDemandFeatureView
    {
        public override string Name => "altered";

        public override string Description => "test view";

        public override IReadOnlyList<Strata.Contracts.Features.FeatureField> Inputs { get; } =
            [new("age", LogicalType.Float64, ExclusiveMinimum: 0), new("income", LogicalType.Float64)];

        public override IReadOnlyList<FeatureDefinition> Features { get; } =
        [
            FeatureDefinition.Of("mix", (double age, double income) => Math.Sqrt(age) + Math.Pow(income, 2) - Math.Log(age)),
            FeatureDefinition.Of("bounded", (double age, double income) => Math.Max(-age, Math.Abs(-income / age))),
        ];
    }
}
