using System.Text;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Features.Views;
using Strata.Testing;
using Strata.Samples;

namespace Strata.Features.Tests;

public sealed class FeaturesServiceTests
{
    private static MemoryStream Text(string csv) => new(Encoding.UTF8.GetBytes(csv));

    [Fact]
    public async Task BuildTrainingFrameAsync_Dataset_AppliesTheSameTransformAsOnline()
    {
        await using var modules = await InProcessModules.StartAsync();
        var data = modules.Get<IDataClient>();
        var features = modules.Get<IFeaturesClient>();
        var dataset = await data.IngestCsvAsync("d", Text("age,income,target\n20,40000,1\n50,30000,0\n"), CleaningRules.None);

        var frame = await features.BuildTrainingFrameAsync(new TrainingFrameRequest(dataset.Id, SampleFeatureRepository.SeedFeaturesName, "target"));

        Assert.Equal(2, frame.Rows);
        Assert.Equal(["age", "income", "age_squared", "income_per_age"], frame.FeatureNames);
        Assert.Equal([1.0, 0.0], frame.Label);
        for (var r = 0; r < frame.Rows; r++)
        {
            var online = await features.ComputeAsync(SampleFeatureRepository.SeedFeaturesName, [frame.Features[0][r], frame.Features[1][r]]);
            Assert.Equal(online, frame.Features.Select(column => column[r]));
        }
    }

    [Fact]
    public async Task BuildTrainingFrameAsync_RowFailingTheView_ThrowsWithHint()
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await modules.Get<IDataClient>().IngestCsvAsync("d", Text("age,income,target\n20,1,1\n0,1,0\n"), CleaningRules.None);

        var error = await Assert.ThrowsAsync<InputValidationException>(() =>
            modules.Get<IFeaturesClient>().BuildTrainingFrameAsync(new TrainingFrameRequest(dataset.Id, SampleFeatureRepository.SeedFeaturesName, "target")));
        Assert.Equal("dataset_id", error.Field);
        Assert.Contains("row 1", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildTrainingFrameAsync_BadReferences_Throw()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var dataset = await modules.Get<IDataClient>().IngestCsvAsync("d", Text("age,income,y\n20,1,1\n"), CleaningRules.None);

        await Assert.ThrowsAsync<ResourceNotFoundException>(() => features.BuildTrainingFrameAsync(new(dataset.Id, "nope", "y")));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => features.BuildTrainingFrameAsync(new(new string('a', 64), SampleFeatureRepository.SeedFeaturesName, "y")));
        Assert.Equal("label", (await Assert.ThrowsAsync<InputValidationException>(() =>
            features.BuildTrainingFrameAsync(new(dataset.Id, SampleFeatureRepository.SeedFeaturesName, "target")))).Field);
        Assert.Equal("label", (await Assert.ThrowsAsync<InputValidationException>(() =>
            features.BuildTrainingFrameAsync(new(dataset.Id, SampleFeatureRepository.SeedFeaturesName, "age")))).Field);
    }
}
