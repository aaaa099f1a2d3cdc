using System.Text.Json;
using Strata.Contracts.Tracking;
using Strata.Contracts.Training;

namespace Strata.Contracts.Tests;

/// <summary>Enums on the wire: their snake_case (or declared) names, read back exactly; any other spelling or a number is
/// refused, so no value outside the enum gets into a request.</summary>
public sealed class WireNamesTests
{
    [Theory]
    [InlineData(Trainer.FastForest, "fast_forest")]
    [InlineData(Trainer.LightGbm, "lightgbm")]
    [InlineData(TrainingTask.MulticlassClassification, "multiclass_classification")]
    [InlineData(SearchStrategy.Random, "random")]
    [InlineData(RunStatus.Finished, "FINISHED")]
    [InlineData(LogicalType.Float64, "float64")]
    [InlineData(LogicalType.Timestamp, "timestamp")]
    public void Value_IsWrittenAndReadByItsWireName(object value, string name)
    {
        var json = JsonSerializer.Serialize(value, value.GetType(), StrataJson.Options);
        Assert.Equal($"\"{name}\"", json);
        Assert.Equal(value, JsonSerializer.Deserialize(json, value.GetType(), StrataJson.Options));
    }

    [Theory]
    [InlineData("\"FastTree\"")]
    [InlineData("\"FAST_TREE\"")]
    [InlineData("\"fast tree\"")]
    [InlineData("3")]
    [InlineData("\"3\"")]
    [InlineData("null")]
    [InlineData("true")]
    public void AnythingButAWireName_IsRefused(string json)
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<TrainingRequest>($"{{\"trainer\": {json}}}", StrataJson.Options));
        Assert.Equal("$.trainer", error.Path);
    }

    [Fact]
    public void Names_ParseBack_AndListInDeclarationOrder()
    {
        Assert.Equal(["fast_forest", "fast_tree", "lightgbm", "logistic_regression", "sdca"], WireNames.All<Trainer>());
        var runtimeType = typeof(Trainer);
        Assert.Equal(WireNames.All<Trainer>(), WireNames.All(runtimeType));
        Assert.True(WireNames.TryParse<TrainingTask>("regression", out var task) && task == TrainingTask.Regression);
        Assert.False(WireNames.TryParse<TrainingTask>("Regression", out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => WireNames.Of((Trainer)42));
    }
}
