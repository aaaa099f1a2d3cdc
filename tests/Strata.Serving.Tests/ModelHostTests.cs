using System.Text;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Registry;
using Strata.Contracts.Serving;
using Strata.Contracts.Training;
using Strata.Samples;
using Strata.Serving.Models;
using Strata.Testing;

namespace Strata.Serving.Tests;

public sealed class ModelHostTests
{
    private static async Task<TrainingResult> TrainAsync(InProcessModules modules, int trees, string alias = "champion")
    {
        var data = modules.Get<IDataClient>();
        var dataset = await data.IngestCsvAsync(SampleDataset.Name, new MemoryStream(Encoding.UTF8.GetBytes(SampleDataset.Csv(3000))),
            new CleaningRules(true, [RowFilter.Parse("age > 0")]));
        return await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trees = trees, Alias = alias });
    }

    [Fact]
    public async Task Predict_BeforeAnyModel_IsUnavailableNotAnError()
    {
        await using var modules = await InProcessModules.StartAsync(serving: true);
        var serving = modules.Get<IServingClient>();
        Assert.False((await serving.GetStatusAsync()).Ready);
        await Assert.ThrowsAsync<DependencyUnavailableException>(() => serving.PredictAsync(new Dictionary<string, double> { ["age"] = 30, ["income"] = 1 }));
    }

    [Fact]
    public async Task Refresh_AliasMoves_SwapsToNewVersion()
    {
        await using var modules = await InProcessModules.StartAsync(serving: true);
        var serving = modules.Get<IServingClient>();
        var first = await TrainAsync(modules, trees: 10);
        await Eventually.ValueAsync(() => serving.GetStatusAsync(), s => s.Version == first.Version, TimeSpan.FromSeconds(20), "loading v1");

        var low = await serving.PredictAsync(new Dictionary<string, double> { ["age"] = 70, ["income"] = 20000 });
        var high = await serving.PredictAsync(new Dictionary<string, double> { ["age"] = 20, ["income"] = 190000 });
        Assert.Equal("1", low.ModelVersion);
        Assert.True(high.Prediction > 0.5 && low.Prediction < 0.5, $"expected high {high.Prediction} > 0.5 > low {low.Prediction}");

        var second = await TrainAsync(modules, trees: 20);
        await Eventually.ValueAsync(() => serving.GetStatusAsync(), s => s.Version == second.Version, TimeSpan.FromSeconds(20), "swapping to v2");
        Assert.Equal("2", (await serving.PredictAsync(new Dictionary<string, double> { ["age"] = 20, ["income"] = 190000 })).ModelVersion);
    }

    [Fact]
    public async Task AliasChangedEvent_SwapsWithoutWaitingForThePoll()
    {
        // Polling once an hour: only the model.alias_changed event can explain a swap within seconds.
        await using var modules = await InProcessModules.StartAsync(serving: true,
            new Dictionary<string, string?> { ["Strata:Serving:RefreshInterval"] = "01:00:00" });
        var serving = modules.Get<IServingClient>();
        var trained = await TrainAsync(modules, trees: 5);

        var status = await Eventually.ValueAsync(() => serving.GetStatusAsync(), s => s.Version == trained.Version, TimeSpan.FromSeconds(10), "event-driven load");
        Assert.True(status.Ready);
    }

    [Fact]
    public async Task Predict_InvalidInputs_ThrowNamingInput()
    {
        await using var modules = await InProcessModules.StartAsync(serving: true);
        var serving = modules.Get<IServingClient>();
        var trained = await TrainAsync(modules, trees: 5);
        await Eventually.ValueAsync(() => serving.GetStatusAsync(), s => s.Version == trained.Version, TimeSpan.FromSeconds(20), "loading");

        Assert.Equal("age", (await Assert.ThrowsAsync<InputValidationException>(() =>
            serving.PredictAsync(new Dictionary<string, double> { ["age"] = 0, ["income"] = 1 }))).Field);
        Assert.Equal("income", (await Assert.ThrowsAsync<InputValidationException>(() =>
            serving.PredictAsync(new Dictionary<string, double> { ["age"] = 3 }))).Field);
    }

    [Fact]
    public async Task Load_ViewNoLongerMatchesVersion_RefusesToLoad()
    {
        await using var modules = await InProcessModules.StartAsync();
        var trained = await TrainAsync(modules, trees: 5);
        var registry = modules.Get<IRegistryClient>();
        var version = (await registry.GetVersionAsync("seed", trained.Version))!;
        var artifact = await registry.GetArtifactAsync(version.ArtifactSha256);
        var view = (await modules.Get<Strata.Contracts.Features.IFeaturesClient>().GetViewAsync("seed_features"))!;

        var loaded = MlNetModel.Load(version, artifact, view, DateTimeOffset.UtcNow);
        Assert.InRange(loaded.Score([30, 50000, 900, 50000 / 30.0]), 0, 1);

        var fewer = view with { Features = [.. view.Features.Take(3)] };
        Assert.Throws<InvalidDataException>(() => MlNetModel.Load(version, artifact, fewer, DateTimeOffset.UtcNow));
        var redefined = view with { Version = "000000000000" };
        Assert.Throws<InvalidDataException>(() => MlNetModel.Load(version, artifact, redefined, DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task AliasMovesBack_ReusesTheVersionItLeft_WithoutLoadingAgain()
    {
        await using var modules = await InProcessModules.StartAsync(serving: true);
        var host = modules.Get<ModelHost>();
        var first = await TrainAsync(modules, trees: 5);
        var v1 = await Eventually.ValueAsync(() => Task.FromResult(host.Current), m => m?.Version.Version == first.Version, TimeSpan.FromSeconds(20), "v1");
        var second = await TrainAsync(modules, trees: 6);
        var v2 = await Eventually.ValueAsync(() => Task.FromResult(host.Current), m => m?.Version.Version == second.Version, TimeSpan.FromSeconds(20), "v2");

        // v1 is no longer aliased but stays loaded (pinned), so a rollback is the same instance, no new load.
        Assert.Contains(host.Loaded("seed"), m => ReferenceEquals(m, v1));
        await modules.Get<IRegistryClient>().SetAliasAsync("seed", "champion", first.Version);
        var back = await Eventually.ValueAsync(() => Task.FromResult(host.Current), m => m?.Version.Version == first.Version, TimeSpan.FromSeconds(20), "rollback");
        Assert.Same(v1, back);
        Assert.Contains(host.Loaded("seed"), m => ReferenceEquals(m, v2));
    }
}
