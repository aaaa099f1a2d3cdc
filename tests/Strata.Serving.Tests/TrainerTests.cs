using Strata.Contracts;
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

/// <summary>Every binary trainer, end to end: trained on the seed dataset with the normalisation in its pipeline,
/// registered with its trainer in the params, loaded by serving, answering probabilities that rank a high-income row
/// above a low-income one, and explained per feature (tree ensembles and linear models both).</summary>
public sealed class TrainerTests
{
    [Theory]
    [InlineData(Trainer.FastForest)]
    [InlineData(Trainer.FastTree)]
    [InlineData(Trainer.LightGbm)]
    [InlineData(Trainer.LogisticRegression)]
    public async Task Trainer_TrainsRegistersServesAndExplains(Trainer trainer)
    {
        await using var modules = await InProcessModules.StartAsync(serving: true);
        var dataset = await modules.Get<IDataClient>().IngestCsvAsync(SampleDataset.Name, new MemoryStream(Encoding.UTF8.GetBytes(SampleDataset.Csv(4000))),
            new CleaningRules(true, [RowFilter.Parse("age > 0")]));

        var trained = await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trainer = trainer, Trees = 30 });

        // The label follows income/age > 2500 with 10% label noise; a linear model on (age, income, age^2, income/age) separates it too.
        Assert.InRange(trained.Metrics["auc"], 0.85, 1.0);
        Assert.InRange(trained.Metrics["log_loss"], 0.05, 0.7);
        var version = await modules.Get<IRegistryClient>().GetVersionByAliasAsync("seed", "champion");
        Assert.Equal(WireNames.Of(trainer), version!.Params["trainer"]);

        var host = modules.Get<ModelHost>();
        var model = await Eventually.ValueAsync(() => Task.FromResult(host.Current), m => m?.Version.Version == trained.Version, TimeSpan.FromSeconds(20), "loading");
        var serving = modules.Get<IServingClient>();
        var rich = await serving.PredictAsync(new Dictionary<string, double> { ["age"] = 30, ["income"] = 150000 });
        var poor = await serving.PredictAsync(new Dictionary<string, double> { ["age"] = 70, ["income"] = 20000 });
        Assert.InRange(rich.Prediction, 0, 1);
        Assert.InRange(poor.Prediction, 0, 1);
        Assert.True(rich.Prediction > poor.Prediction, $"{trainer}: P(rich) {rich.Prediction} <= P(poor) {poor.Prediction}");

        // The run's artifacts: the signature, and the ONNX export, which ONNX Runtime scores like ML.NET.
        var run = await modules.Get<Strata.Contracts.Tracking.ITrackingClient>().GetRunAsync(trained.RunId!);
        var tags = run.Data.Tags!.ToDictionary(t => t.Key, t => t.Value);
        var registry = modules.Get<IRegistryClient>();
        using (var signature = System.Text.Json.JsonDocument.Parse(await registry.GetArtifactAsync(tags["strata.signature_sha256"])))
        {
            var input = signature.RootElement.GetProperty("inputs")[0];
            Assert.Equal(("Features", "FP32"), (input.GetProperty("name").GetString(), input.GetProperty("datatype").GetString()));
            Assert.Equal(["age", "income", "age_squared", "income_per_age"], input.GetProperty("features").EnumerateArray().Select(f => f.GetString()));
            Assert.Contains(signature.RootElement.GetProperty("outputs").EnumerateArray(), o => o.GetProperty("name").GetString() == "Probability");
        }
        Assert.True(tags.ContainsKey("strata.onnx_sha256"), $"{trainer}: no ONNX export ({tags.GetValueOrDefault("strata.onnx_unavailable")})");
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(await registry.GetArtifactAsync(tags["strata.onnx_sha256"]));
        var features = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(new float[] { 30, 150000, 900, 5000 }, [1, 4]);
        using var outputs = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("Features", features)]);
        var score = outputs.Single(o => o.Name.StartsWith("Score", StringComparison.Ordinal)).AsTensor<float>()[0];
        Assert.True(float.IsFinite(score));
        if (outputs.FirstOrDefault(o => o.Name.StartsWith("Probability", StringComparison.Ordinal)) is { } probability)
        {
            Assert.Equal(rich.Prediction, probability.AsTensor<float>()[0], 4);
        }

        Assert.True(model!.CanExplain, $"{trainer} has no explainer");
        var explanation = ((MlNetModel)model).ExplainFeatures([30, 150000, 900, 5000]);
        Assert.NotEmpty(explanation.Contributions);
        Assert.Contains(explanation.Contributions, c => c.Contribution != 0);
    }

    [Theory]
    [InlineData("random_forest")]
    [InlineData("")]
    [InlineData("FastTree")]
    [InlineData("3")]
    public async Task Trainer_Unknown_IsRefusedNamingTheField(string trainer)
    {
        // On the wire an unknown name does not bind (the JSON error names the field); in process no value outside the
        // enum gets through either.
        var json = Assert.Throws<System.Text.Json.JsonException>(() =>
            System.Text.Json.JsonSerializer.Deserialize<TrainingRequest>($"{{\"trainer\": \"{trainer}\"}}", StrataJson.Options));
        Assert.Equal("$.trainer", json.Path);
        await using var modules = await InProcessModules.StartAsync();
        var e = await Assert.ThrowsAsync<InputValidationException>(() => modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { Trainer = (Trainer)99 }));
        Assert.Equal("trainer", e.Field);
    }
}
