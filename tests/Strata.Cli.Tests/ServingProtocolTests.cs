using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Strata.Cli.Tests;

/// <summary>KServe V1 and Open Inference Protocol (V2) REST conformance, written from the public specifications,
/// against the seeded monolith: shapes, datatypes, id echo, version routing, and the protocols' own error shape.</summary>
public sealed class ServingProtocolTests(MonolithFixture fixture) : IClassFixture<MonolithFixture>
{
    private HttpClient Http => fixture.Http;

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    private async Task<double> PredictAsync(double age, double income) =>
        (await (await Http.PostAsJsonAsync(new Uri("/predict", UriKind.Relative), new { age, income })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("prediction").GetDouble();

    [Fact]
    public async Task V2_ServerEndpoints_AnswerPerSpec()
    {
        var (status, metadata, _) = await SendAsync(HttpMethod.Get, "/v2");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("strata", metadata.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.String, metadata.GetProperty("version").ValueKind);
        Assert.Equal(JsonValueKind.Array, metadata.GetProperty("extensions").ValueKind);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/v2/health/live")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/v2/health/ready")).Status);
    }

    [Fact]
    public async Task V2_ModelMetadata_DescribesTensorsWithVariableBatch()
    {
        var (status, body, response) = await SendAsync(HttpMethod.Get, "/v2/models/seed");
        Assert.Equal(HttpStatusCode.OK, status);
        var version = body.GetProperty("versions")[0].GetString()!;
        Assert.Equal(version, response.Headers.GetValues("X-Model-Version").Single());
        Assert.Equal("seed", body.GetProperty("name").GetString());
        Assert.Equal("mlnet", body.GetProperty("platform").GetString());
        Assert.Equal(["age", "income"], body.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.All(body.GetProperty("inputs").EnumerateArray(), i =>
        {
            Assert.Equal("FP64", i.GetProperty("datatype").GetString());
            Assert.Equal([-1], i.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        });
        Assert.Equal("probability", body.GetProperty("outputs")[0].GetProperty("name").GetString());

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"/v2/models/seed/versions/{version}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"/v2/models/seed/versions/{version}/ready")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/v2/models/seed/ready")).Status);
    }

    /// <summary>A body the JSON REST binding cannot read (the binary tensor extension, a form) and paths the protocol does
    /// not have: the protocol's <c>{"error": ...}</c>, not a problem document.</summary>
    [Theory]
    [InlineData("POST", "/v2/models/seed/infer", "application/octet-stream", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("POST", "/v2/models/seed/versions/1/infer", "text/plain", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("GET", "/v2/no/such/thing", null, HttpStatusCode.NotFound)]
    [InlineData("POST", "/v2/models/seed", "application/json", HttpStatusCode.NotFound)]
    public async Task V2_UnreadableBodyOrUnknownPath_AnswersInTheProtocolsShape(string method, string path, string? contentType, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (contentType is not null)
        {
            request.Content = new ByteArrayContent([0, 0, 128, 63]);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }
        using var response = await Http.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("error").GetString()));
    }

    [Theory]
    [InlineData("GET", "/v2/models/nope")]
    [InlineData("GET", "/v2/models/nope/ready")]
    [InlineData("POST", "/v2/models/nope/infer")]
    [InlineData("GET", "/v2/models/seed/versions/999")]
    [InlineData("GET", "/v2/models/seed/versions/999/ready")]
    [InlineData("POST", "/v2/models/seed/versions/999/infer")]
    [InlineData("GET", "/v1/models/nope")]
    [InlineData("POST", "/v1/models/nope:predict")]
    public async Task UnknownModelOrVersion_Is404WithErrorBody(string method, string path)
    {
        var (status, body, _) = await SendAsync(new HttpMethod(method), path, method == "POST" ? """{"instances": [[1, 2]], "inputs": []}""" : null);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task V2_Infer_FlatOrNestedData_EchoesIdAndMatchesPredict()
    {
        var flat = """{"id": "req-7", "inputs": [{"name": "age", "shape": [2], "datatype": "FP64", "data": [35, 20]}, {"name": "income", "shape": [2], "datatype": "FP64", "data": [50000, 190000]}]}""";
        var nested = """{"inputs": [{"name": "income", "shape": [2, 1], "datatype": "INT64", "data": [[50000], [190000]]}, {"name": "age", "shape": [2, 1], "datatype": "INT32", "data": [[35], [20]]}], "outputs": [{"name": "probability"}]}""";

        var (status, a, response) = await SendAsync(HttpMethod.Post, "/v2/models/seed/infer", flat);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("req-7", a.GetProperty("id").GetString());
        Assert.Equal("seed", a.GetProperty("model_name").GetString());
        Assert.Equal(a.GetProperty("model_version").GetString(), response.Headers.GetValues("X-Model-Version").Single());
        var output = a.GetProperty("outputs")[0];
        Assert.Equal(("probability", "FP64"), (output.GetProperty("name").GetString(), output.GetProperty("datatype").GetString()));
        Assert.Equal([2], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        var scores = output.GetProperty("data").EnumerateArray().Select(d => d.GetDouble()).ToArray();
        Assert.Equal([await PredictAsync(35, 50000), await PredictAsync(20, 190000)], scores);

        var (nestedStatus, b, _) = await SendAsync(HttpMethod.Post, "/v2/models/seed/infer", nested);
        Assert.Equal(HttpStatusCode.OK, nestedStatus);
        Assert.False(b.TryGetProperty("id", out _));
        Assert.Equal(scores, b.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(d => d.GetDouble()));
    }

    public static TheoryData<string, string> BadInferRequests => new()
    {
        { "not json", "not valid JSON" },
        { "[1]", "JSON object" },
        { """{"inputs": []}""", "non-empty array" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "input 'income' is missing" },
        { """{"inputs": [{"name": "height", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "input 'height' is not an input of model 'seed'" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": [3]}, {"name": "age", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "given twice" },
        { """{"inputs": [{"name": "age", "shape": [3], "datatype": "FP64", "data": [3, 4]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "3 elements" },
        { """{"inputs": [{"name": "age", "shape": [1, 2], "datatype": "FP64", "data": [3, 4]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "[N] or [N, 1]" },
        { """{"inputs": [{"name": "age", "shape": [-1], "datatype": "FP64", "data": [3]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "non-negative integer" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "BYTES", "data": ["3"]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "datatype BYTES" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "FP16", "data": [3]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "datatype FP16, which Strata does not take" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "BOOL", "data": [1]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "not true or false" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "FP128", "data": [3]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "unknown datatype" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "INT64", "data": [3.5]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "not a INT64" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "INT32", "data": [3000000000]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "not a INT32" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": ["3"]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "not a finite number" },
        { """{"inputs": [{"name": "age", "shape": [2], "datatype": "FP64", "data": [3, 4]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "other inputs have 2" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": [0]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "input 'age' must be > 0" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "FP64"}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "'data' array" },
        { """{"inputs": [{"name": "age", "datatype": "FP64", "data": [1]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "'shape' array" },
        { """{"id": 5, "inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": [1]}]}""", "'id' must be a string" },
        { """{"inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}], "outputs": [{"name": "logits"}]}""", "no output 'logits'" },
        { """{"inputs": [{"name": "age", "shape": [20000], "datatype": "FP64", "data": [1]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [3]}]}""", "20000 rows" },
    };

    [Theory]
    [MemberData(nameof(BadInferRequests))]
    public async Task V2_Infer_BadRequest_Is400WithErrorNamingTheProblem(string json, string expected)
    {
        var (status, body, response) = await SendAsync(HttpMethod.Post, "/v2/models/seed/infer", json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScoringResponses_CarryTheirContentLength_AfterALargeBatchToo()
    {
        // The scoring endpoints build their body in a per-thread buffer: each answer is whole, not chunked, and a large
        // batch (whose buffer the thread lets go) does not leak into the answers after it.
        var rows = string.Join(", ", Enumerable.Range(0, 10_000).Select(r => $$"""{"age": {{20 + r % 50}}, "income": {{10000 + r}}}"""));
        var requests = new (string Path, string Json)[]
        {
            ("/predict", """{"age": 35, "income": 50000}"""),
            ("/predict", $"[{rows}]"),
            ("/predict", """[{"age": 35, "income": 50000}]"""),
            ("/v2/models/seed/infer", """{"id": "x", "inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": [35]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [50000]}]}"""),
            ("/v1/models/seed:predict", """{"instances": [[35, 50000]]}"""),
        };
        foreach (var (path, json) in requests)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            using var response = await Http.SendAsync(request);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
            Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
            using var body = JsonDocument.Parse(bytes);
            Assert.Equal(JsonValueKind.String, body.RootElement.GetProperty("model_version").ValueKind);
        }
        var (_, single, _) = await SendAsync(HttpMethod.Post, "/predict", """{"age": 35, "income": 10015}""");
        var (_, batch, _) = await SendAsync(HttpMethod.Post, "/predict", $"[{rows}]");
        Assert.Equal(10_000, batch.GetProperty("predictions").GetArrayLength());
        Assert.Equal(single.GetProperty("prediction").GetDouble(), batch.GetProperty("predictions")[15].GetDouble());
    }

    [Fact]
    public async Task Predict_BatchForm_ScoresEveryRowInOrder()
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, "/predict",
            """[{"age": 35, "income": 50000}, {"age": 20, "income": 190000}, {"age": 61, "income": 20000}]""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([await PredictAsync(35, 50000), await PredictAsync(20, 190000), await PredictAsync(61, 20000)],
            body.GetProperty("predictions").EnumerateArray().Select(p => p.GetDouble()));
        Assert.Equal(JsonValueKind.String, body.GetProperty("model_version").ValueKind);
    }

    [Fact]
    public async Task V1_ListReadyPredict_AnswerPerSpec()
    {
        var (_, list, _) = await SendAsync(HttpMethod.Get, "/v1/models");
        Assert.Equal(["seed"], list.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        var (_, ready, _) = await SendAsync(HttpMethod.Get, "/v1/models/seed");
        Assert.Equal(("seed", true), (ready.GetProperty("name").GetString(), ready.GetProperty("ready").GetBoolean()));

        var (status, body, response) = await SendAsync(HttpMethod.Post, "/v1/models/seed:predict",
            """{"instances": [{"age": 35, "income": 50000}, [20, 190000]]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([await PredictAsync(35, 50000), await PredictAsync(20, 190000)],
            body.GetProperty("predictions").EnumerateArray().Select(p => p.GetDouble()));
        Assert.Equal(body.GetProperty("model_version").GetString(), response.Headers.GetValues("X-Model-Version").Single());
    }

    [Theory]
    [InlineData("""{"instances": {"age": 35, "income": 1}}""", "must be a list")]
    [InlineData("""{"inputs": [[35, 1]]}""", "'instances'")]
    [InlineData("""{"instances": []}""", "between 1 and")]
    [InlineData("""{"instances": [{"age": 35}]}""", "no 'income'")]
    [InlineData("""{"instances": [[35]]}""", "array of 2 values")]
    [InlineData("""{"instances": [{"age": "35", "income": 1}]}""", "not a finite number")]
    [InlineData("""{"instances": [{"age": -35, "income": 1}]}""", "input 'age' must be > 0")]
    [InlineData("{", "not valid JSON")]
    public async Task V1_PredictAndExplain_BadRequest_Is400WithError(string json, string expected)
    {
        foreach (var verb in new[] { "predict", "explain" })
        {
            var (status, body, _) = await SendAsync(HttpMethod.Post, $"/v1/models/seed:{verb}", json);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains(expected, body.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
    }
}
