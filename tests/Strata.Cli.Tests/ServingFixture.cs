using Microsoft.AspNetCore.Builder;
using Microsoft.ML;
using Microsoft.Extensions.DependencyInjection;
using Strata.Cli.Commands;
using Strata.Hosting;
using Strata.Cli.Seed;
using Strata.Contracts.Data;
using Strata.Contracts.Registry;
using Strata.Contracts.Training;
using Strata.Serving.Models;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>A seeded monolith on real Kestrel whose Serving module is configured by the subclass (more models, aliases,
/// micro-batching), shared by a test class.</summary>
public abstract class ServingFixture : IAsyncLifetime
{
    private readonly TempFolder _folder = new();

    public WebApplication App { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>An admin key of this Strata (<see cref="Http"/> presents it).</summary>
    public string ApiKey { get; private set; } = null!;

    /// <summary>The environment a CLI run against this Strata needs.</summary>
    public IReadOnlyDictionary<string, string> CliEnvironment => TestKeys.Environment(ApiKey);

    public T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <summary>The monolith's data directory.</summary>
    public string DataDirectory => _folder.Path;

    protected abstract IDictionary<string, string?> Serving { get; }

    /// <summary>More to register once the seed model is (before readiness is awaited).</summary>
    protected virtual Task AfterSeedAsync() => Task.CompletedTask;

    /// <summary>Configuration beyond serving's (e.g. where the registry stores live).</summary>
    protected virtual Task<IDictionary<string, string?>> OtherConfigurationAsync() => Task.FromResult<IDictionary<string, string?>>(new Dictionary<string, string?>());

    public async Task InitializeAsync()
    {
        var configuration = new Dictionary<string, string?>(await OtherConfigurationAsync())
        {
            ["Strata:Serving:RefreshInterval"] = "00:00:00.100",
            ["Strata:Serving:PredictionLogSampleRate"] = "1",
        };
        foreach (var (key, value) in Serving)
        {
            configuration["Strata:Serving:" + key] = value;
        }
        App = StrataHost.Build(HostSettings.Monolith(0, _folder.Path) with { Configuration = configuration });
        await App.StartAsync();
        ApiKey = TestKeys.Create(App.Services);
        Http = TestKeys.Authorize(new HttpClient { BaseAddress = HostRunner.Address(App) }, ApiKey);
        await new SeedExample(Get<IDataClient>(), Get<ITrainingClient>(), Get<IRegistryClient>()).EnsureAsync(_folder.Path, null, CancellationToken.None);
        await AfterSeedAsync();
        await Readiness.WaitAsync(Http, TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    /// <summary>Exports the seed model's v1 artifact to ONNX with ML.NET's converter (a graph "trained elsewhere"),
    /// registers it as <paramref name="model"/> (format <c>onnx</c>, alias champion) and waits until it is served.</summary>
    public async Task<ModelVersion> RegisterSeedAsOnnxAsync(string model)
    {
        var registry = Get<IRegistryClient>();
        if (await registry.GetVersionByAliasAsync(model, "champion") is { } existing)
        {
            return existing;
        }
        var seed = (await registry.GetVersionAsync("seed", 1))!;
        var ml = new MLContext(seed: 0);
        using var zip = new MemoryStream(await registry.GetArtifactAsync(seed.ArtifactSha256));
        var trained = ml.Model.Load(zip, out _);
        var schema = ModelInput.Schema(seed.FeatureNames.Count, 0);
        using var onnx = new MemoryStream();
        ml.Model.ConvertToOnnx(trained, ml.Data.LoadFromEnumerable([new ModelInput { Features = new float[seed.FeatureNames.Count] }], schema), onnx);
        onnx.Position = 0;
        var artifact = await registry.PutArtifactAsync(onnx);
        var version = await registry.CreateVersionAsync(model, new NewModelVersion(artifact.Sha256, ModelFormats.Onnx,
            new Dictionary<string, double>(), new Dictionary<string, string> { ["exported_from"] = "seed/1" }, null, null, null, []));
        await registry.SetAliasAsync(model, "champion", version.Version);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Get<ModelHost>().Get(model, "champion")?.Version.Version != version.Version)
        {
            if (DateTime.UtcNow > deadline)
            {
                // Say why: a refresh now throws what the background refreshes logged.
                await Get<ModelHost>().RefreshAsync(model, CancellationToken.None);
                Assert.Fail($"the ONNX model {model} was not loaded within 30 s");
            }
            await Task.Delay(100);
        }
        return version;
    }

    public virtual async Task DisposeAsync()
    {
        Http?.Dispose();
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
        _folder.Dispose();
    }
}

/// <summary>Serves the seed model, <c>seed-onnx</c> and <c>colors-onnx</c> (registered by the tests as ONNX graphs).</summary>
public sealed class MultiModelFixture : ServingFixture
{
    public const string OnnxModel = "seed-onnx";
    public const string TextModel = "colors-onnx";

    protected override IDictionary<string, string?> Serving => new Dictionary<string, string?> { ["Models:0"] = OnnxModel, ["Models:1"] = TextModel };
}

/// <summary>Micro-batching on: at most 8 rows per batch, 25 ms latency bound; serves <c>seed-onnx</c> too.</summary>
public sealed class BatchingFixture : ServingFixture
{
    public const string OnnxModel = "seed-onnx";
    public const int MaxBatchSize = 8;
    public static readonly TimeSpan MaxLatency = TimeSpan.FromMilliseconds(25);

    protected override IDictionary<string, string?> Serving => new Dictionary<string, string?>
    {
        ["Models:0"] = OnnxModel,
        ["MaxBatchSize"] = "8",
        ["MaxBatchLatency"] = "00:00:00.025",
    };
}

/// <summary>The seed model with three versions for traffic policies: v1 (champion, trained), v2 (the same artifact
/// registered again: the same answers, another version), v3 (v1 exported to ONNX: /predict cannot be mirrored to it).</summary>
public sealed class TrafficFixture : ServingFixture
{
    protected override IDictionary<string, string?> Serving => new Dictionary<string, string?>
    {
        // Alias and traffic changes arrive as events; the poll is the backstop.
        ["RefreshInterval"] = "00:00:00.200",
        ["PredictionLogSampleRate"] = "0",
    };

    /// <summary>Rollouts are looked at every 100 ms (their steps last a second in these tests).</summary>
    protected override Task<IDictionary<string, string?>> OtherConfigurationAsync() =>
        Task.FromResult<IDictionary<string, string?>>(new Dictionary<string, string?> { ["Strata:Registry:RolloutTick"] = "00:00:00.100" });

    protected override async Task AfterSeedAsync()
    {
        var registry = Get<IRegistryClient>();
        var v1 = (await registry.GetVersionAsync("seed", 1))!;
        await registry.CreateVersionAsync("seed", new NewModelVersion(v1.ArtifactSha256, v1.Format, v1.Metrics, v1.Params, v1.DatasetVersion,
            v1.FeatureView, v1.FeatureViewVersion, v1.FeatureNames, "v1 registered again"));
        var ml = new MLContext(seed: 0);
        using var zip = new MemoryStream(await registry.GetArtifactAsync(v1.ArtifactSha256));
        var trained = ml.Model.Load(zip, out _);
        using var onnx = new MemoryStream();
        ml.Model.ConvertToOnnx(trained, ml.Data.LoadFromEnumerable([new ModelInput { Features = new float[v1.FeatureNames.Count] }],
            ModelInput.Schema(v1.FeatureNames.Count, 0)), onnx);
        onnx.Position = 0;
        var artifact = await registry.PutArtifactAsync(onnx);
        await registry.CreateVersionAsync("seed", new NewModelVersion(artifact.Sha256, ModelFormats.Onnx, new Dictionary<string, double>(),
            new Dictionary<string, string>(), null, null, null, []));
    }
}
