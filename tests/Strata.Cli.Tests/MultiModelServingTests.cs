using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Strata.Contracts.Events;
using Strata.Contracts.Registry;
using Strata.Serving.Models;

namespace Strata.Cli.Tests;

/// <summary>Two runtimes and many versions in one server: an ONNX graph (the seed model exported by ML.NET's ONNX
/// converter, registered as format <c>onnx</c>) served by ONNX Runtime beside the ML.NET seed model; versions addressed by
/// number and by alias; explanations.</summary>
public sealed class MultiModelServingTests(MultiModelFixture fixture) : IClassFixture<MultiModelFixture>
{
    private HttpClient Http => fixture.Http;

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private MlNetModel Seed => (MlNetModel)fixture.Get<ModelHost>().Get("seed", "champion")!;

    private Task<ModelVersion> RegisterOnnxAsync() => fixture.RegisterSeedAsOnnxAsync(MultiModelFixture.OnnxModel);

    private static string Fp32Infer(params float[][] rows) => JsonSerializer.Serialize(new
    {
        inputs = new[] { new { name = "Features", shape = new[] { rows.Length, rows[0].Length }, datatype = "FP32", data = rows } },
    });

    [Fact]
    public async Task Onnx_Metadata_IsTheGraphsSignature()
    {
        var version = await RegisterOnnxAsync();
        var (status, body) = await SendAsync(HttpMethod.Get, $"/v2/models/{MultiModelFixture.OnnxModel}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("onnxruntime_onnx", body.GetProperty("platform").GetString());
        Assert.Equal([version.Version.ToString(CultureInfo.InvariantCulture)], body.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        var input = Assert.Single(body.GetProperty("inputs").EnumerateArray());
        Assert.Equal(("Features", "FP32"), (input.GetProperty("name").GetString(), input.GetProperty("datatype").GetString()));
        Assert.Equal([-1L, Seed.View.Features.Count], input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        var outputs = body.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!, o => o.GetProperty("datatype").GetString());
        Assert.Equal("FP32", outputs["Probability.output"]);
        Assert.Equal("BOOL", outputs["PredictedLabel.output"]);

        var (listed, models) = await SendAsync(HttpMethod.Get, "/v1/models");
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Equal(["seed", MultiModelFixture.OnnxModel, MultiModelFixture.TextModel], models.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public async Task Onnx_Infer_AgreesWithTheMlNetModelItWasExportedFrom()
    {
        await RegisterOnnxAsync();
        var mlnet = (MlNetModel)(await fixture.Get<ModelHost>().GetVersionAsync("seed", 1, CancellationToken.None))!;
        var rows = new[] { new double[] { 35, 50000 }, [20, 190000], [61, 20000] }.Select(r => mlnet.Features.Compute(r)).ToArray();
        var json = Fp32Infer([.. rows.Select(r => r.Select(v => (float)v).ToArray())]);

        var (status, body) = await SendAsync(HttpMethod.Post, $"/v2/models/{MultiModelFixture.OnnxModel}/infer",
            json.Insert(json.Length - 1, """, "outputs": [{"name": "Probability.output"}, {"name": "PredictedLabel.output"}], "id": "x1" """));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("x1", body.GetProperty("id").GetString());
        var outputs = body.GetProperty("outputs");
        Assert.Equal(2, outputs.GetArrayLength());
        var probability = outputs[0];
        Assert.Equal(("Probability.output", "FP32"), (probability.GetProperty("name").GetString(), probability.GetProperty("datatype").GetString()));
        Assert.Equal([3L, 1L], probability.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        var scores = probability.GetProperty("data").EnumerateArray().Select(d => d.GetDouble()).ToArray();
        for (var r = 0; r < rows.Length; r++)
        {
            Assert.Equal(mlnet.Score(rows[r]), scores[r], 4);
        }
        Assert.Equal(scores.Select(p => p > 0.5), outputs[1].GetProperty("data").EnumerateArray().Select(b => b.GetBoolean()));

        // KServe V1 on the same graph: an instance is the single input's row.
        var v1 = JsonSerializer.Serialize(new { instances = rows.Select(r => r.Select(v => (float)v)) });
        var (v1Status, v1Body) = await SendAsync(HttpMethod.Post, $"/v1/models/{MultiModelFixture.OnnxModel}:predict", v1);
        Assert.Equal(HttpStatusCode.OK, v1Status);
        Assert.Equal(scores, v1Body.GetProperty("predictions").EnumerateArray().Select(p => p.GetDouble()));
    }

    public static TheoryData<string, string> BadOnnxRequests => new()
    {
        { """{"inputs": [{"name": "Features", "shape": [1, 2], "datatype": "FP64", "data": [35, 50000]}]}""", "input 'Features' has datatype FP64; the model takes FP32" },
        { """{"inputs": [{"name": "Features", "shape": [1, 9], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6, 7, 8, 9]}]}""", "has shape [1, 9]; the model takes [-1, " },
        { """{"inputs": [{"name": "Features", "shape": [2], "datatype": "FP32", "data": [35, 50000]}]}""", "has shape [2]" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "FP32", "data": [35]}]}""", "input 'age' is not an input of model 'seed-onnx'" },
        { """{"inputs": [{"name": "Features", "shape": [1, 2], "datatype": "FP32", "data": [35, 1e300]}]}""", "not a finite number" },
        { """{"inputs": [{"name": "Features", "shape": [1, 2], "datatype": "FP32", "data": [35, 50000]}], "outputs": [{"name": "Score"}]}""", "no output 'Score'" },
    };

    [Theory]
    [MemberData(nameof(BadOnnxRequests))]
    public async Task Onnx_BadRequest_Is400NamingTheInput(string json, string expected)
    {
        await RegisterOnnxAsync();
        var (status, body) = await SendAsync(HttpMethod.Post, $"/v2/models/{MultiModelFixture.OnnxModel}/infer", json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(expected, body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Onnx_ExplainAndPredict_AreRefusedWith400()
    {
        await RegisterOnnxAsync();
        var (status, body) = await SendAsync(HttpMethod.Post, $"/v1/models/{MultiModelFixture.OnnxModel}:explain", """{"instances": [[35, 50000]]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("has no explainer", body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TensorPredictions_AreLogged_OnePredictionMadePerRow_WithInputsFeaturesAndOutput()
    {
        await RegisterOnnxAsync();
        var received = System.Threading.Channels.Channel.CreateUnbounded<PredictionMadeEvent>();
        await using var subscription = await fixture.Get<IEventSubscriber>().SubscribeAsync(EventTopics.PredictionMade, "tensor-log-test",
            (e, ct) => received.Writer.WriteAsync(e.DataAs<PredictionMadeEvent>()!, ct).AsTask());
        var seed = Seed;
        var features = seed.Features.Compute([35, 50000]);
        var (onnxStatus, onnx) = await SendAsync(HttpMethod.Post, $"/v2/models/{MultiModelFixture.OnnxModel}/infer",
            Fp32Infer([.. features.Select(v => (float)v)], [.. seed.Features.Compute([20, 190000]).Select(v => (float)v)]));
        Assert.Equal(HttpStatusCode.OK, onnxStatus);
        var onnxScores = onnx.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "Probability.output")
            .GetProperty("data").EnumerateArray().Select(d => d.GetDouble()).ToList();
        var (mlnetStatus, mlnet) = await SendAsync(HttpMethod.Post, "/v2/models/seed/infer",
            """{"inputs": [{"name": "age", "shape": [1], "datatype": "INT32", "data": [35]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [50000]}]}""");
        Assert.Equal(HttpStatusCode.OK, mlnetStatus);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var logged = new List<PredictionMadeEvent>();
        while (logged.Count(p => p.Model == MultiModelFixture.OnnxModel) < 2 || !logged.Any(p => p.Model == "seed"))
        {
            logged.Add(await received.Reader.ReadAsync(timeout.Token));
        }
        var onnxRows = logged.Where(p => p.Model == MultiModelFixture.OnnxModel).ToList();
        // FP32 on the wire (shortest float text), the float's exact double in the log.
        Assert.Equal(onnxScores.Count, onnxRows.Count);
        Assert.All(onnxScores.Zip(onnxRows), pair => Assert.Equal(pair.First, pair.Second.Prediction, 6));
        Assert.Equal(features[0], onnxRows[0].Inputs["Features[0]"], 3);
        Assert.Equal(features.Length, onnxRows[0].Features.Count);
        var seedRow = logged.First(p => p.Model == "seed");
        Assert.Equal(35, seedRow.Inputs["age"]);
        Assert.Equal(seed.View.Features.Select(f => f.Name).Order(), seedRow.Features.Keys.Order());
        Assert.Equal(mlnet.GetProperty("outputs")[0].GetProperty("data")[0].GetDouble(), seedRow.Prediction);
    }

    /// <summary>A row of the text model: a categorical string and a number.</summary>
    public sealed class ColorRow
    {
        public string Color { get; set; } = "";

        public float Size { get; set; }

        public bool Label { get; set; }
    }

    [Fact]
    public async Task Onnx_BytesInput_IsServed_AndAgreesWithTheModelItCameFrom()
    {
        // A graph with a string input, as a model trained elsewhere on categorical data would have (here: one-hot encoding
        // and logistic regression in ML.NET, exported with its ONNX converter).
        var ml = new MLContext(seed: 1);
        var random = new Random(7);
        string[] colors = ["red", "green", "blue", "black"];
        var rows = Enumerable.Range(0, 800).Select(_ =>
        {
            var color = colors[random.Next(colors.Length)];
            var size = (float)(random.NextDouble() * 10);
            return new ColorRow { Color = color, Size = size, Label = (color is "red" or "blue" ? 3 : 0) + size + random.NextDouble() * 3 > 6 };
        }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.Categorical.OneHotEncoding("ColorHot", nameof(ColorRow.Color))
            .Append(ml.Transforms.Concatenate("Features", "ColorHot", nameof(ColorRow.Size)))
            .Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(nameof(ColorRow.Label), "Features"))
            .Fit(data);
        using var onnx = new MemoryStream();
        ml.Model.ConvertToOnnx(model, ml.Data.LoadFromEnumerable(rows.Select(r => new ColorInput { Color = r.Color, Size = r.Size })), onnx);
        onnx.Position = 0;
        var registry = fixture.Get<IRegistryClient>();
        var artifact = await registry.PutArtifactAsync(onnx);
        var version = await registry.CreateVersionAsync(MultiModelFixture.TextModel, new NewModelVersion(artifact.Sha256, ModelFormats.Onnx,
            new Dictionary<string, double>(), new Dictionary<string, string>(), null, null, null, []));
        await registry.SetAliasAsync(MultiModelFixture.TextModel, "champion", version.Version);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await SendAsync(HttpMethod.Get, $"/v2/models/{MultiModelFixture.TextModel}/ready")).Status != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "the text model was not loaded within 30 s");
            await Task.Delay(100);
        }

        var (_, metadata) = await SendAsync(HttpMethod.Get, $"/v2/models/{MultiModelFixture.TextModel}");
        var inputs = metadata.GetProperty("inputs").EnumerateArray().ToDictionary(i => i.GetProperty("name").GetString()!, i => i.GetProperty("datatype").GetString());
        Assert.Equal("BYTES", inputs["Color"]);
        Assert.Equal("FP32", inputs["Size"]);

        ColorRow[] asked = [new() { Color = "red", Size = 2 }, new() { Color = "black", Size = 9 }, new() { Color = "purple", Size = 5 }];
        var json = JsonSerializer.Serialize(new
        {
            inputs = new object[]
            {
                new { name = "Color", shape = new[] { 3, 1 }, datatype = "BYTES", data = asked.Select(r => r.Color) },
                new { name = "Size", shape = new[] { 3, 1 }, datatype = "FP32", data = asked.Select(r => r.Size) },
            },
            outputs = new[] { new { name = "Probability.output" } },
        });
        var (status, body) = await SendAsync(HttpMethod.Post, $"/v2/models/{MultiModelFixture.TextModel}/infer", json);
        Assert.True(status == HttpStatusCode.OK, body.GetRawText());
        var served = body.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(d => d.GetDouble()).ToArray();
        var engine = ml.Model.CreatePredictionEngine<ColorRow, ColorScore>(model);
        for (var i = 0; i < asked.Length; i++)
        {
            Assert.Equal(engine.Predict(asked[i]).Probability, served[i], 4);
        }

        // A number where the graph takes strings is refused, naming the input.
        var (badStatus, bad) = await SendAsync(HttpMethod.Post, $"/v2/models/{MultiModelFixture.TextModel}/infer",
            """{"inputs": [{"name": "Color", "shape": [1, 1], "datatype": "BYTES", "data": [3]}, {"name": "Size", "shape": [1, 1], "datatype": "FP32", "data": [1]}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Contains("input 'Color' (BYTES) has an element that is not a string", bad.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    /// <summary>The text model's inputs (what the exported graph takes).</summary>
    public sealed class ColorInput
    {
        public string Color { get; set; } = "";

        public float Size { get; set; }
    }

    /// <summary>The text model's output in process.</summary>
    public sealed class ColorScore
    {
        public float Probability { get; set; }
    }

    [Fact]
    public async Task Versions_ByNumberAndByAlias_AnswerWithThatVersion()
    {
        var registry = fixture.Get<IRegistryClient>();
        var versions = await registry.ListVersionsAsync("seed");
        if (versions.Count < 2)
        {
            using var trained = await Http.PostAsync(new Uri("/train", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.OK, trained.StatusCode);
        }
        var champion = (await registry.GetVersionByAliasAsync("seed", "champion"))!.Version;
        await registry.SetAliasAsync("seed", "challenger", 1);
        const string Row = """{"inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": [35]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [50000]}]}""";

        async Task<string?> AnsweredByAsync(string path)
        {
            var (status, body) = await SendAsync(HttpMethod.Post, path, Row);
            return status == HttpStatusCode.OK ? body.GetProperty("model_version").GetString() : $"{(int)status}: {body}";
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await AnsweredByAsync("/v2/models/seed/versions/challenger/infer") != "1")
        {
            Assert.True(DateTime.UtcNow < deadline, "the challenger alias was not picked up within 20 s");
            await Task.Delay(100);
        }
        Assert.Equal(champion.ToString(CultureInfo.InvariantCulture), await AnsweredByAsync("/v2/models/seed/infer"));
        Assert.Equal(champion.ToString(CultureInfo.InvariantCulture), await AnsweredByAsync("/v2/models/seed/versions/champion/infer"));
        Assert.Equal("1", await AnsweredByAsync("/v2/models/seed/versions/1/infer"));
        Assert.Equal(champion.ToString(CultureInfo.InvariantCulture), await AnsweredByAsync($"/v2/models/seed/versions/{champion}/infer"));

        var (_, metadata) = await SendAsync(HttpMethod.Get, "/v2/models/seed");
        Assert.Subset(metadata.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToHashSet(), new HashSet<string> { "1", champion.ToString(CultureInfo.InvariantCulture) });

        foreach (var path in new[] { "/v2/models/seed/versions/999/infer", "/v2/models/seed/versions/staging/infer", "/v2/models/seed/versions/0/infer" })
        {
            var (status, body) = await SendAsync(HttpMethod.Post, path, Row);
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Contains("is not served", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Explain_GivesEachFeaturesContribution_ForV1AndPredict()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "/v1/models/seed:explain", """{"instances": [{"age": 35, "income": 50000}, [20, 190000]]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var explanations = body.GetProperty("explanations");
        Assert.Equal(2, explanations.GetArrayLength());
        var first = explanations[0];
        Assert.Equal("mlnet-feature-contribution", first.GetProperty("method").GetString());
        var features = Seed.View.Features.Select(f => f.Name).ToHashSet();
        var contributions = first.GetProperty("contributions").EnumerateArray().ToList();
        Assert.Equal(features, contributions.Select(c => c.GetProperty("feature").GetString()!).ToHashSet());
        Assert.Contains(contributions, c => c.GetProperty("contribution").GetDouble() != 0);
        var magnitudes = contributions.Select(c => Math.Abs(c.GetProperty("contribution").GetDouble())).ToList();
        Assert.Equal(magnitudes.OrderDescending(), magnitudes);

        var (_, predicted) = await SendAsync(HttpMethod.Post, "/predict", """{"age": 35, "income": 50000}""");
        Assert.Equal(predicted.GetProperty("prediction").GetDouble(), first.GetProperty("prediction").GetDouble(), 6);

        var (queryStatus, query) = await SendAsync(HttpMethod.Post, "/predict?explain=true", """{"age": 35, "income": 50000}""");
        Assert.Equal(HttpStatusCode.OK, queryStatus);
        Assert.Equal(first.GetProperty("contributions").GetRawText(), query.GetProperty("explanation").GetProperty("contributions").GetRawText());
        var (bodyStatus, inBody) = await SendAsync(HttpMethod.Post, "/predict", """{"age": 35, "income": 50000, "explain": true}""");
        Assert.Equal(HttpStatusCode.OK, bodyStatus);
        Assert.Equal(first.GetProperty("contributions").GetRawText(), inBody.GetProperty("explanation").GetProperty("contributions").GetRawText());
        var (batchStatus, batch) = await SendAsync(HttpMethod.Post, "/predict?explain=true", """[{"age": 35, "income": 50000}, {"age": 20, "income": 190000}]""");
        Assert.Equal(HttpStatusCode.OK, batchStatus);
        Assert.Equal(2, batch.GetProperty("explanations").GetArrayLength());

        var (badStatus, bad) = await SendAsync(HttpMethod.Post, "/predict?explain=maybe", """{"age": 35, "income": 50000}""");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Contains("explain", bad.GetRawText(), StringComparison.Ordinal);
        var (badBodyStatus, _) = await SendAsync(HttpMethod.Post, "/predict", """{"age": 35, "income": 50000, "explain": "yes"}""");
        Assert.Equal(HttpStatusCode.BadRequest, badBodyStatus);
        var (badRowStatus, badRow) = await SendAsync(HttpMethod.Post, "/v1/models/seed:explain", """{"instances": [{"age": -1, "income": 50000}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, badRowStatus);
        Assert.Contains("input 'age' must be > 0", badRow.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
