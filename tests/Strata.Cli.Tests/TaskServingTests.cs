using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Strata.Contracts.Data;
using Strata.Contracts.Training;

namespace Strata.Cli.Tests;

/// <summary>Serves a regression model (<c>ratio</c>, the default model, so the seed's <c>/predict</c> answers with it) and
/// a three-class model (<c>bands</c>) beside the seed's binary one, all trained on the seed's view.</summary>
public sealed class TasksFixture : ServingFixture
{
    protected override IDictionary<string, string?> Serving => new Dictionary<string, string?> { ["Model"] = "ratio", ["Models:0"] = "bands", ["Models:1"] = "seed", ["Models:2"] = "sevens" };

    protected override async Task AfterSeedAsync()
    {
        var random = new Random(5);
        var csv = new StringBuilder("age,income,band,ratio\n");
        for (var i = 0; i < 3000; i++)
        {
            var age = random.Next(18, 81);
            var income = random.Next(10_000, 200_001);
            var perAge = income / (double)age;
            csv.Append(CultureInfo.InvariantCulture, $"{age},{income},{(perAge < 1500 ? 0 : perAge < 4000 ? 1 : 2)},{perAge / 1000:F4}\n");
        }
        var dataset = await Get<IDataClient>().IngestCsvAsync("values", new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), CleaningRules.None);
        var training = Get<ITrainingClient>();
        await training.TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Model = "ratio", Label = "ratio", Task = TrainingTask.Regression, Trainer = Trainer.LightGbm, Trees = 100 });
        await training.TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Model = "bands", Label = "band", Task = TrainingTask.MulticlassClassification, Trainer = Trainer.LightGbm, Trees = 50 });

        // target: age is a multiple of 7; a linear model learns it only with age one-hot encoded.
        var sevens = new StringBuilder("age,income,target\n");
        for (var i = 0; i < 3000; i++)
        {
            var age = random.Next(18, 81);
            sevens.Append(CultureInfo.InvariantCulture, $"{age},{random.Next(10_000, 200_001)},{(age % 7 == 0 ? 1 : 0)}\n");
        }
        var categories = await Get<IDataClient>().IngestCsvAsync("sevens", new MemoryStream(Encoding.UTF8.GetBytes(sevens.ToString())), CleaningRules.None);
        await training.TrainAsync(new TrainingRequest { DatasetId = categories.Id, Model = "sevens", Trainer = Trainer.LogisticRegression, Categorical = ["age"] });
    }
}

public sealed class TaskServingTests(TasksFixture fixture) : IClassFixture<TasksFixture>
{
    private async Task<JsonElement> SendAsync(string path, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = body is null ? await fixture.Http.GetAsync(path) : await fixture.Http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static object[] Tensors(params (double Age, double Income)[] rows) =>
    [
        new { name = "age", shape = new[] { rows.Length }, datatype = "FP64", data = rows.Select(r => r.Age) },
        new { name = "income", shape = new[] { rows.Length }, datatype = "FP64", data = rows.Select(r => r.Income) },
    ];

    private static object Inputs(params (double Age, double Income)[] rows) => new { inputs = Tensors(rows) };

    [Fact]
    public async Task Multiclass_V2_MetadataInferLabelsAndProbabilities()
    {
        var metadata = await SendAsync("/v2/models/bands");
        var outputs = metadata.GetProperty("outputs").EnumerateArray().Select(o => (o.GetProperty("name").GetString(), o.GetProperty("datatype").GetString(),
            string.Join(',', o.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32())))).ToList();
        Assert.Equal([("label", "FP64", "-1"), ("probabilities", "FP64", "-1,3")], outputs);

        // income/age: 500 (band 0), 2500 (band 1), 6000 (band 2)
        var answer = await SendAsync("/v2/models/bands/infer", Inputs((40, 20_000), (40, 100_000), (25, 150_000)));
        var label = answer.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "label");
        Assert.Equal([0.0, 1.0, 2.0], label.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()));
        var probabilities = answer.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "probabilities");
        Assert.Equal([3, 3], probabilities.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        var p = probabilities.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        for (var r = 0; r < 3; r++)
        {
            Assert.Equal(1.0, p[(r * 3)..((r * 3) + 3)].Sum(), 3);
            Assert.Equal(r, Array.IndexOf(p[(r * 3)..((r * 3) + 3)], p[(r * 3)..((r * 3) + 3)].Max()));
        }

        var only = await SendAsync("/v2/models/bands/infer", new { inputs = Tensors((40, 20_000)), outputs = new[] { new { name = "probabilities" } } });
        Assert.Equal(["probabilities"], only.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()));
    }

    /// <summary>Multiclass explanations by occlusion: the predicted class's probability minus its probability with one
    /// feature at its training baseline (ML.NET has no contributions for multiclass predictors).</summary>
    [Fact]
    public async Task Multiclass_V1_PredictsTheClass_AndExplainsByOcclusion()
    {
        var answer = await SendAsync("/v1/models/bands:predict", new { instances = new[] { new { age = 40, income = 20_000 }, new { age = 25, income = 150_000 } } });
        Assert.Equal([0.0, 2.0], answer.GetProperty("predictions").EnumerateArray().Select(v => v.GetDouble()));

        var explained = await SendAsync("/v1/models/bands:explain", new { instances = new[] { new { age = 25, income = 150_000 } } });
        var explanation = explained.GetProperty("explanations")[0];
        Assert.Equal(2.0, explanation.GetProperty("prediction").GetDouble());
        Assert.Equal("occlusion-vs-training-baseline", explanation.GetProperty("method").GetString());
        var contributions = explanation.GetProperty("contributions").EnumerateArray()
            .Select(c => (Feature: c.GetProperty("feature").GetString()!, Contribution: c.GetProperty("contribution").GetDouble())).ToList();
        Assert.Equal(["age", "age_squared", "income", "income_per_age"], contributions.Select(c => c.Feature).Order(StringComparer.Ordinal));
        // income/age = 6,000 puts the row in band 2; at the typical income or ratio it would not be: the largest drop is one of them.
        Assert.Contains(contributions[0].Feature, new[] { "income", "income_per_age" });
        Assert.True(contributions[0].Contribution > 0.1, $"{contributions[0]}");
        Assert.Equal(contributions.Select(c => Math.Abs(c.Contribution)).OrderDescending(), contributions.Select(c => Math.Abs(c.Contribution)));
    }

    [Fact]
    public async Task Regression_PredictV2AndExplain_AnswerTheValue()
    {
        var metadata = await SendAsync("/v2/models/ratio");
        Assert.Equal(["prediction"], metadata.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()));

        // ratio = income / age / 1000: 2.5 and 6.0
        var predicted = await SendAsync("/predict", new { age = 40, income = 100_000 });
        Assert.InRange(predicted.GetProperty("prediction").GetDouble(), 2.3, 2.7);
        var batch = await SendAsync("/predict", new[] { new { age = 40, income = 100_000 }, new { age = 25, income = 150_000 } });
        Assert.InRange(batch.GetProperty("predictions")[1].GetDouble(), 5.5, 6.5);
        var infer = await SendAsync("/v2/models/ratio/infer", Inputs((25, 150_000)));
        Assert.InRange(infer.GetProperty("outputs")[0].GetProperty("data")[0].GetDouble(), 5.5, 6.5);

        var explained = await SendAsync("/v1/models/ratio:explain", new { instances = new[] { new { age = 25, income = 150_000 } } });
        var explanation = explained.GetProperty("explanations")[0];
        Assert.InRange(explanation.GetProperty("prediction").GetDouble(), 5.5, 6.5);
        Assert.NotEmpty(explanation.GetProperty("contributions").EnumerateArray());
    }

    /// <summary>A model whose pipeline one-hot encodes age: serving feeds it age as a category, ages it never saw
    /// included, and explains by feature (the indicators of age summed into one contribution).</summary>
    [Fact]
    public async Task Categorical_ServingEncodesAsTraining_AndExplainsByFeature()
    {
        var answer = await SendAsync("/v2/models/sevens/infer", Inputs((49, 60_000), (50, 60_000), (56, 120_000), (57, 120_000)));
        var p = answer.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.True(p[0] > 0.8 && p[2] > 0.8 && p[1] < 0.2 && p[3] < 0.2, string.Join(", ", p));
        // 90 was never seen in training: its indicators are all zero and the model still answers.
        var unseen = await SendAsync("/v1/models/sevens:predict", new { instances = new[] { new { age = 90, income = 60_000 } } });
        Assert.InRange(unseen.GetProperty("predictions")[0].GetDouble(), 0, 1);

        var explained = await SendAsync("/v1/models/sevens:explain", new { instances = new[] { new { age = 49, income = 60_000 } } });
        var contributions = explained.GetProperty("explanations")[0].GetProperty("contributions").EnumerateArray()
            .Select(c => (Feature: c.GetProperty("feature").GetString(), Value: c.GetProperty("value").GetDouble())).ToList();
        Assert.Equal(["age", "age_squared", "income", "income_per_age"], contributions.Select(c => c.Feature).Order(StringComparer.Ordinal));
        Assert.Equal(("age", 49.0), contributions[0]); // the largest contribution first
    }

    [Fact]
    public async Task Binary_SeedModel_StillAnswersAProbability()
    {
        var answer = await SendAsync("/v2/models/seed/infer", Inputs((40, 100_000)));
        Assert.Equal("probability", answer.GetProperty("outputs")[0].GetProperty("name").GetString());
        Assert.InRange(answer.GetProperty("outputs")[0].GetProperty("data")[0].GetDouble(), 0, 1);
    }
}
