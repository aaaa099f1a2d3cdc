using Strata.Contracts.Errors;
using Strata.Features.Views;

namespace Strata.Features.Tests;

public class SeedFeatureViewTests
{
    private readonly SeedFeatureView _view = new();

    [Fact]
    public void Compute_SeedRow_YieldsSeedFeatures()
    {
        var features = new double[4];
        _view.Compute([35, 50000], features);
        Assert.Equal([35, 50000, 1225, 50000 / 35.0], features);
    }

    [Theory]
    [InlineData(0, 1, "age")]
    [InlineData(-3, 1, "age")]
    [InlineData(double.NaN, 1, "age")]
    [InlineData(30, double.PositiveInfinity, "income")]
    public void Compute_InvalidInput_ThrowsNamingInput(double age, double income, string field)
    {
        var error = Assert.Throws<InputValidationException>(() => _view.Compute([age, income], new double[4]));
        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void Compute_WrongArity_Throws() =>
        Assert.Equal("inputs", Assert.Throws<InputValidationException>(() => _view.Compute([1], new double[4])).Field);

    [Fact]
    public void Info_ListsInputsAndFeaturesInOrder()
    {
        var info = _view.Info;
        Assert.Equal(["age", "income"], info.Inputs.Select(i => i.Name));
        Assert.Equal(["age", "income", "age_squared", "income_per_age"], info.Features.Select(f => f.Name));
        Assert.Equal(0, info.Inputs[0].ExclusiveMinimum);
    }
}
