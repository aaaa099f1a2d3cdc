using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Strata.Contracts.Registry;
using Strata.Serving.Models;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>A seeded monolith of its own for models logged the way MLflow's clients log them.</summary>
public sealed class MlflowModelsFixture : ServingFixture
{
    protected override IDictionary<string, string?> Serving => new Dictionary<string, string?>();
}

/// <summary>Models logged with MLflow's client, served as they are: files uploaded through the MLflow artifacts service
/// (<c>mlflow-artifacts:/</c> roots, as <c>log_artifact</c> does), a model folder with an <c>MLmodel</c> file registered from
/// <c>runs:/&lt;run&gt;/model</c>, given the champion alias and answering V2 infer; a flavor Strata cannot serve is still
/// registered and listed, and serving says why it does not load it.</summary>
public sealed class MlflowModelsTests(MlflowModelsFixture fixture) : IClassFixture<MlflowModelsFixture>
{
    private HttpClient Http => fixture.Http;

    private async Task<JsonElement> MlflowAsync(string call, object body)
    {
        using var response = await Http.PostAsJsonAsync($"/api/2.0/mlflow/{call}", body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, $"{call}: {json}");
        return json;
    }

    /// <summary>A run of a new experiment; its artifact root as the artifacts service's path.</summary>
    private async Task<(string RunId, string Root)> RunAsync()
    {
        var experiment = (await MlflowAsync("experiments/create", new { name = $"logged-{Guid.NewGuid():N}" })).GetProperty("experiment_id").GetString();
        var run = (await MlflowAsync("runs/create", new { experiment_id = experiment, start_time = 1_700_000_000_000L })).GetProperty("run").GetProperty("info");
        var uri = run.GetProperty("artifact_uri").GetString()!;
        Assert.StartsWith("mlflow-artifacts:/", uri, StringComparison.Ordinal);
        return (run.GetProperty("run_id").GetString()!, uri["mlflow-artifacts:/".Length..]);
    }

    private async Task<HttpStatusCode> UploadAsync(string path, byte[] content)
    {
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        using var response = await Http.PutAsync(new Uri($"/api/2.0/mlflow-artifacts/artifacts/{path}", UriKind.Relative), body);
        return response.StatusCode;
    }

    private async Task<int> RegisterAsync(string model, string source)
    {
        await Http.PostAsJsonAsync("/api/2.0/mlflow/registered-models/create", new { name = model });
        var version = (await MlflowAsync("model-versions/create", new { name = model, source })).GetProperty("model_version");
        Assert.Equal("READY", version.GetProperty("status").GetString());
        Assert.Equal(source, version.GetProperty("source").GetString());
        return int.Parse(version.GetProperty("version").GetString()!, CultureInfo.InvariantCulture);
    }

    private async Task SetChampionAsync(string model, int version) =>
        await MlflowAsync("registered-models/alias", new { name = model, alias = "champion", version = version.ToString(CultureInfo.InvariantCulture) });

    /// <summary>The seed's v1 pipeline as an ONNX graph (ML.NET's converter): a model trained elsewhere.</summary>
    private async Task<byte[]> SeedAsOnnxAsync()
    {
        var registry = fixture.Get<IRegistryClient>();
        var seed = (await registry.GetVersionAsync("seed", 1))!;
        var ml = new MLContext(seed: 0);
        using var zip = new MemoryStream(await registry.GetArtifactAsync(seed.ArtifactSha256));
        var trained = ml.Model.Load(zip, out _);
        using var onnx = new MemoryStream();
        ml.Model.ConvertToOnnx(trained, ml.Data.LoadFromEnumerable([new ModelInput { Features = new float[seed.FeatureNames.Count] }], ModelInput.Schema(seed.FeatureNames.Count, 0)), onnx);
        return onnx.ToArray();
    }

    [Fact]
    public async Task OnnxModelFolder_UploadedRegisteredFromTheRun_AnswersV2Infer()
    {
        var (runId, root) = await RunAsync();
        Assert.Equal(HttpStatusCode.OK, await UploadAsync($"{root}/model/model.onnx", await SeedAsOnnxAsync()));
        Assert.Equal(HttpStatusCode.OK, await UploadAsync($"{root}/model/MLmodel", Encoding.UTF8.GetBytes("""
            artifact_path: model
            flavors:
              onnx:
                onnx_version: 1.14.0
                data: model.onnx
                providers: [CPUExecutionProvider]
              python_function:
                loader_module: mlflow.onnx
                data: model.onnx
                env: {conda: conda.yaml}
            mlflow_version: 2.9.2
            """)));

        // What the client sees: the artifacts listing of the run, and each file back byte for byte (ranges too).
        var listed = await Http.GetFromJsonAsync<JsonElement>($"/api/2.0/mlflow/artifacts/list?run_id={runId}&path=model");
        Assert.Equal(["model/MLmodel", "model/model.onnx"], listed.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        var top = await Http.GetFromJsonAsync<JsonElement>($"/api/2.0/mlflow-artifacts/artifacts?path={root}");
        Assert.True(top.GetProperty("files")[0].GetProperty("is_dir").GetBoolean());
        using var range = new HttpRequestMessage(HttpMethod.Get, $"/api/2.0/mlflow-artifacts/artifacts/{root}/model/MLmodel");
        range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 12);
        using (var partial = await Http.SendAsync(range))
        {
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal("artifact_path", await partial.Content.ReadAsStringAsync());
        }

        var version = await RegisterAsync("logged_onnx", $"runs:/{runId}/model");
        Assert.Equal(ModelFormats.Onnx, (await fixture.Get<IRegistryClient>().GetVersionAsync("logged_onnx", version))!.Format);
        await SetChampionAsync("logged_onnx", version);
        var mlnet = (MlNetModel)(await fixture.Get<ModelHost>().GetVersionAsync("seed", 1, CancellationToken.None))!;
        var row = mlnet.Features.Compute([35, 50000]);
        var infer = await Eventually.ValueAsync(async () =>
        {
            using var response = await Http.PostAsJsonAsync("/v2/models/logged_onnx/infer", new
            {
                inputs = new[] { new { name = "Features", shape = new[] { 1, row.Length }, datatype = "FP32", data = row.Select(v => (float)v).ToArray() } },
                outputs = new[] { new { name = "Probability.output" } },
            });
            return (response.StatusCode, Body: await response.Content.ReadFromJsonAsync<JsonElement>());
        }, r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "logged_onnx served");
        Assert.Equal(mlnet.Score(row), infer.Body.GetProperty("outputs")[0].GetProperty("data")[0].GetDouble(), 4);
    }

    [Fact]
    public async Task StrataModel_LoggedThroughTheMlflowApi_IsServedAsTheOriginal()
    {
        var registry = fixture.Get<IRegistryClient>();
        var seed = (await registry.GetVersionAsync("seed", 1))!;
        var (runId, root) = await RunAsync();
        Assert.Equal(HttpStatusCode.OK, await UploadAsync($"{root}/model/model.zip", await registry.GetArtifactAsync(seed.ArtifactSha256)));
        Assert.Equal(HttpStatusCode.OK, await UploadAsync($"{root}/model/MLmodel", Encoding.UTF8.GetBytes($"""
            artifact_path: model
            flavors:
              strata_mlnet:
                data: model.zip
                feature_view: {seed.FeatureView}
                feature_view_version: {seed.FeatureViewVersion}
                feature_names: [{string.Join(", ", seed.FeatureNames)}]
            """)));
        var version = await RegisterAsync("logged_mlnet", $"runs:/{runId}/model");
        await SetChampionAsync("logged_mlnet", version);
        var infer = await Eventually.ValueAsync(async () =>
        {
            using var response = await Http.PostAsJsonAsync("/v1/models/logged_mlnet:predict", new { instances = new[] { new { age = 35, income = 50000 } } });
            return (response.StatusCode, Body: await response.Content.ReadFromJsonAsync<JsonElement>());
        }, r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "logged_mlnet served");
        var seedBody = await Http.PostAsJsonAsync("/v2/models/seed/versions/1/infer", new
        {
            inputs = new[] { new { name = "age", shape = new[] { 1 }, datatype = "FP64", data = new[] { 35.0 } }, new { name = "income", shape = new[] { 1 }, datatype = "FP64", data = new[] { 50000.0 } } },
        });
        var expected = (await seedBody.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outputs").EnumerateArray()
            .Single(o => o.GetProperty("name").GetString() == "probability").GetProperty("data")[0].GetDouble();
        Assert.Equal(expected, infer.Body.GetProperty("predictions")[0].GetDouble(), 9);
    }

    [Fact]
    public async Task Delete_AVersionAndAModel_RemovesTheirAliases_AndServingStopsAnsweringWithThem()
    {
        var runId = (await Http.GetFromJsonAsync<JsonElement>("/api/2.0/mlflow/model-versions/get?name=seed&version=1")).GetProperty("model_version").GetProperty("run_id").GetString();
        var v1 = await RegisterAsync("deleted_copy", $"runs:/{runId}/model");
        var v2 = await RegisterAsync("deleted_copy", $"runs:/{runId}/model");
        await SetChampionAsync("deleted_copy", v2);
        var v2Text = v2.ToString(CultureInfo.InvariantCulture);
        async Task<(HttpStatusCode Status, string? Version)> InferAsync()
        {
            using var response = await Http.PostAsJsonAsync("/v2/models/deleted_copy/infer", new
            {
                inputs = new[] { new { name = "age", shape = new[] { 1 }, datatype = "FP64", data = new[] { 35.0 } }, new { name = "income", shape = new[] { 1 }, datatype = "FP64", data = new[] { 50000.0 } } },
            });
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (response.StatusCode, response.IsSuccessStatusCode ? body.GetProperty("model_version").GetString() : null);
        }
        await Eventually.ValueAsync(InferAsync, r => r.Version == v2Text, TimeSpan.FromSeconds(30), "v2 served as champion");

        using (var delete = new HttpRequestMessage(HttpMethod.Delete, "/api/2.0/mlflow/model-versions/delete") { Content = JsonContent.Create(new { name = "deleted_copy", version = v2Text }) })
        using (var deleted = await Http.SendAsync(delete))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }
        using (var alias = await Http.GetAsync(new Uri("/api/2.0/mlflow/registered-models/alias?name=deleted_copy&alias=champion", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, alias.StatusCode);
        }
        await Eventually.ValueAsync(InferAsync, r => r.Status != HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the deleted champion no longer answering");
        var versions = await Http.GetFromJsonAsync<JsonElement>("/api/2.0/mlflow/model-versions/search?filter=name%3D%27deleted_copy%27");
        Assert.Equal([v1.ToString(CultureInfo.InvariantCulture)], versions.GetProperty("model_versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));

        using (var delete = new HttpRequestMessage(HttpMethod.Delete, "/api/2.0/mlflow/registered-models/delete?name=deleted_copy"))
        using (var deleted = await Http.SendAsync(delete))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }
        using (var gone = await Http.GetAsync(new Uri("/api/2.0/mlflow/registered-models/get?name=deleted_copy", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        using (var again = new HttpRequestMessage(HttpMethod.Delete, "/api/2.0/mlflow/registered-models/delete?name=deleted_copy"))
        using (var notFound = await Http.SendAsync(again))
        {
            Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
            Assert.Equal("RESOURCE_DOES_NOT_EXIST", (await notFound.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());
        }
    }

    [Theory]
    [InlineData("sklearn")]
    [InlineData("s3")]
    public async Task UnservableVersion_IsRegisteredAndListed_AndServingSaysWhy(string kind)
    {
        var (runId, root) = await RunAsync();
        string source;
        if (kind == "sklearn")
        {
            Assert.Equal(HttpStatusCode.OK, await UploadAsync($"{root}/model/model.pkl", [1, 2, 3]));
            Assert.Equal(HttpStatusCode.OK, await UploadAsync($"{root}/model/MLmodel", "flavors:\n  sklearn: {pickled_model: model.pkl}\n  python_function: {loader_module: mlflow.sklearn}\n"u8.ToArray()));
            source = $"runs:/{runId}/model";
        }
        else
        {
            source = "s3://bucket/models/churn/3";
        }
        var model = $"unservable_{kind}";
        var version = await RegisterAsync(model, source);
        var search = await Http.GetFromJsonAsync<JsonElement>($"/api/2.0/mlflow/model-versions/search?filter=name%3D%27{model}%27");
        Assert.Single(search.GetProperty("model_versions").EnumerateArray());
        await SetChampionAsync(model, version);
        var refused = await Eventually.ValueAsync(async () =>
        {
            using var response = await Http.PostAsJsonAsync($"/v2/models/{model}/infer",
                new { inputs = new[] { new { name = "x", shape = new[] { 1 }, datatype = "FP64", data = new[] { 1.0 } } } });
            return (response.StatusCode, Body: await response.Content.ReadFromJsonAsync<JsonElement>());
        }, r => r.StatusCode == HttpStatusCode.Conflict, TimeSpan.FromSeconds(30), "the load failure reported");
        Assert.Contains(kind == "sklearn" ? "sklearn" : "outside Strata's artifact store", refused.Body.GetProperty("error").GetString(), StringComparison.Ordinal);
        var status = await Http.GetFromJsonAsync<JsonElement>("/api/serving/status");
        var failure = status.GetProperty("load_failures").EnumerateArray().Single(f => f.GetProperty("model").GetString() == model);
        Assert.Equal(version, failure.GetProperty("version").GetInt32());
        // Backed off (1 s, then doubling), not retried at every refresh (every 100 ms here).
        Assert.InRange(failure.GetProperty("attempts").GetInt32(), 1, 2);
    }

    [Theory]
    [InlineData("PUT", "{root}/../../1/other/artifacts/x", HttpStatusCode.BadRequest)]
    [InlineData("PUT", "{root}/a/%2E%2E/%2E%2E/x", HttpStatusCode.BadRequest)]
    [InlineData("PUT", "{root}/a%2Fb", HttpStatusCode.BadRequest)]
    [InlineData("PUT", "{root}/a%5Cb", HttpStatusCode.BadRequest)]
    [InlineData("PUT", "{root}", HttpStatusCode.BadRequest)]
    [InlineData("PUT", "0/nope/artifacts/x", HttpStatusCode.NotFound)]
    [InlineData("PUT", "{root}/%2E%2E/%2E%2E/%2E%2E/x", HttpStatusCode.BadRequest)] // encoded dots: the server resolves them, out of the run
    [InlineData("PUT", "x/y/z", HttpStatusCode.BadRequest)]
    [InlineData("GET", "{root}/missing.txt", HttpStatusCode.NotFound)]
    [InlineData("DELETE", "{root}/missing.txt", HttpStatusCode.NotFound)]
    public async Task ArtifactPath_OutsideItsRun_IsRefusedInMlflowsShape_AndWritesNothing(string method, string path, HttpStatusCode expected)
    {
        var (_, root) = await RunAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), "/api/2.0/mlflow-artifacts/artifacts/" + path.Replace("{root}", root, StringComparison.Ordinal))
        {
            Content = method == "PUT" ? new ByteArrayContent([1, 2, 3]) : null,
        };
        using var response = await Http.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(error.GetProperty("error_code").GetString()));
        var listed = await Http.GetFromJsonAsync<JsonElement>($"/api/2.0/mlflow-artifacts/artifacts?path={root}");
        Assert.Empty(listed.GetProperty("files").EnumerateArray());
    }

    [Theory]
    [InlineData("""{"name": "m"}""", "source")]
    [InlineData("""{"name": "m", "source": "not a uri"}""", "source")]
    [InlineData("""{"name": "m", "source": "runs:/nope/model"}""", null)]
    [InlineData("""{"name": "m", "source": "models:/seed"}""", "source")]
    [InlineData("""{"name": "m", "source": "models:/seed/999"}""", null)]
    [InlineData("""{"name": "m", "source": "mlflow-artifacts:/../x"}""", "path")]
    public async Task CreateModelVersion_BadSource_IsRefused_AndRegistersNothing(string body, string? field)
    {
        var before = await Http.GetStringAsync("/api/2.0/mlflow/model-versions/search");
        using var response = await Http.PostAsync(new Uri("/api/2.0/mlflow/model-versions/create", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, response.StatusCode.ToString());
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (field is not null)
        {
            Assert.Contains(field, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(before, await Http.GetStringAsync("/api/2.0/mlflow/model-versions/search"));
    }
}

/// <summary>A monolith whose artifacts service takes files of at most 1 kB.</summary>
public sealed class SmallArtifactsFixture : UnseededMonolithFixture
{
    protected override Task<IReadOnlyDictionary<string, string?>?> ConfigurationAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string?>?>(new Dictionary<string, string?> { ["Strata:Registry:MaxArtifactBytes"] = "1024" });
}

public sealed class ArtifactSizeLimitTests(SmallArtifactsFixture fixture) : IClassFixture<SmallArtifactsFixture>
{
    [Fact]
    public async Task Upload_OverTheConfiguredLimit_Is413_AndStoresNothing()
    {
        var http = fixture.Http;
        using var experiment = await http.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = $"limit-{Guid.NewGuid():N}" });
        var id = (await experiment.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("experiment_id").GetString();
        using var created = await http.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = id });
        var root = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("run").GetProperty("info").GetProperty("artifact_uri").GetString()!["mlflow-artifacts:/".Length..];
        using (var small = await http.PutAsync(new Uri($"/api/2.0/mlflow-artifacts/artifacts/{root}/small.bin", UriKind.Relative), new ByteArrayContent(new byte[1024])))
        {
            Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        }
        using (var large = await http.PutAsync(new Uri($"/api/2.0/mlflow-artifacts/artifacts/{root}/large.bin", UriKind.Relative), new ByteArrayContent(new byte[1025])))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        }
        var listed = await http.GetFromJsonAsync<JsonElement>($"/api/2.0/mlflow-artifacts/artifacts?path={root}");
        Assert.Equal(["small.bin"], listed.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
    }
}
