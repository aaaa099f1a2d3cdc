using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Strata.Cli.Tests;

/// <summary>MLflow REST API 2.0 (tracking) as MLflow's protos and REST docs define it: paths, GET query / POST body
/// conventions, snake_case fields, int64 times as numbers, the error body and status codes, the search grammar. One suite, run against each tracking store (SQLite, PostgreSQL) through the same HTTP API.</summary>
public abstract class MlflowApiTests(UnseededMonolithFixture fixture)
{
    private const string Api = "/api/2.0/mlflow/";
    private HttpClient Http => fixture.Http;

    private async Task<JsonElement> PostAsync(string path, object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Http.PostAsJsonAsync(Api + path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private async Task<JsonElement> GetAsync(string pathAndQuery, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Http.GetAsync(Api + pathAndQuery);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{pathAndQuery}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static void AssertError(JsonElement body, string code)
    {
        Assert.Equal(code, body.GetProperty("error_code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("message").GetString()));
    }

    private async Task<string> ExperimentAsync(string? name = null) =>
        (await PostAsync("experiments/create", new { name = name ?? $"exp-{Guid.NewGuid():N}" })).GetProperty("experiment_id").GetString()!;

    private async Task<string> RunAsync(string experimentId, object? tags = null)
    {
        var run = await PostAsync("runs/create", new { experiment_id = experimentId, start_time = 1_700_000_000_000L, tags = tags ?? Array.Empty<object>() });
        return run.GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
    }

    private static Dictionary<string, string> Pairs(JsonElement run, string what) =>
        run.GetProperty("data").TryGetProperty(what, out var list) ? list.EnumerateArray().ToDictionary(p => p.GetProperty("key").GetString()!, p => p.GetProperty("value").GetString()!) : [];

    [SkippableFact]
    public async Task LogModel_AppendsToTheRunsLoggedModelHistory_AsMlflowsServerDoes()
    {
        var run = await RunAsync(await ExperimentAsync());
        string Model(string path) => JsonSerializer.Serialize(new { artifact_path = path, flavors = new { onnx = new { data = "model.onnx" } }, utc_time_created = "2026-12-06 10:00:00.000000", run_id = run });
        await PostAsync("runs/log-model", new { run_id = run, model_json = Model("model") });
        await PostAsync("runs/log-model", new { run_id = run, model_json = Model("model2") });
        var tags = Pairs((await GetAsync($"runs/get?run_id={run}")).GetProperty("run"), "tags");
        var history = JsonNode.Parse(tags["mlflow.log-model.history"])!.AsArray();
        Assert.Equal(["model", "model2"], history.Select(m => (string?)m!["artifact_path"]));

        AssertError(await PostAsync("runs/log-model", new { run_id = run, model_json = "{\"flavors\": {}}" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("runs/log-model", new { run_id = run, model_json = "not json" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("runs/log-model", new { run_id = run }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("runs/log-model", new { run_id = "0123456789abcdef0123456789abcdef", model_json = Model("m") }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        Assert.Equal(2, JsonNode.Parse(Pairs((await GetAsync($"runs/get?run_id={run}")).GetProperty("run"), "tags")["mlflow.log-model.history"])!.AsArray().Count);
    }

    [SkippableFact]
    public async Task LogInputs_DatasetsComeBackWithTheRun_OncePerNameAndDigest()
    {
        var run = await RunAsync(await ExperimentAsync());
        object Dataset(string digest) => new
        {
            tags = new[] { new { key = "mlflow.data.context", value = "training" } },
            dataset = new { name = "tumours", digest, source_type = "local", source = "{\"uri\": \"tumours.csv\"}", schema = "{\"mlflow_colspec\": []}" },
        };
        await PostAsync("runs/log-inputs", new { run_id = run, datasets = new[] { Dataset("abc123"), Dataset("def456") } });
        await PostAsync("runs/log-inputs", new { run_id = run, datasets = new[] { Dataset("abc123") } });
        var inputs = (await GetAsync($"runs/get?run_id={run}")).GetProperty("run").GetProperty("inputs").GetProperty("dataset_inputs");
        Assert.Equal(["abc123", "def456"], inputs.EnumerateArray().Select(d => d.GetProperty("dataset").GetProperty("digest").GetString()));
        Assert.Equal("training", inputs[0].GetProperty("tags")[0].GetProperty("value").GetString());

        AssertError(await PostAsync("runs/log-inputs", new { run_id = run, datasets = new[] { new { dataset = new { name = "x", digest = "d" } } } }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("runs/log-inputs", new { run_id = run, datasets = new[] { new { dataset = new { name = "x", digest = new string('d', 37), source_type = "local", source = "s" } } } },
            HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("runs/log-inputs", new { run_id = "0123456789abcdef0123456789abcdef", datasets = new[] { Dataset("x") } }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        Assert.Equal(2, (await GetAsync($"runs/get?run_id={run}")).GetProperty("run").GetProperty("inputs").GetProperty("dataset_inputs").GetArrayLength());
    }

    [SkippableFact]
    public async Task Experiment_RenamedAndTagged_KeepsItsRuns()
    {
        var id = await ExperimentAsync();
        var run = await RunAsync(id);
        var name = $"renamed-{Guid.NewGuid():N}";
        await PostAsync("experiments/update", new { experiment_id = id, new_name = name });
        await PostAsync("experiments/set-experiment-tag", new { experiment_id = id, key = "team", value = "risk" });
        var experiment = (await GetAsync($"experiments/get-by-name?experiment_name={name}")).GetProperty("experiment");
        Assert.Equal(id, experiment.GetProperty("experiment_id").GetString());
        Assert.Contains(experiment.GetProperty("tags").EnumerateArray(), t => t.GetProperty("key").GetString() == "team" && t.GetProperty("value").GetString() == "risk");
        Assert.Equal(id, (await GetAsync($"runs/get?run_id={run}")).GetProperty("run").GetProperty("info").GetProperty("experiment_id").GetString());

        var other = await ExperimentAsync();
        AssertError(await PostAsync("experiments/update", new { experiment_id = other, new_name = name }, HttpStatusCode.BadRequest), "RESOURCE_ALREADY_EXISTS");
        AssertError(await PostAsync("experiments/update", new { experiment_id = id, new_name = " " }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("experiments/update", new { experiment_id = "987654", new_name = "x" + Guid.NewGuid().ToString("N") }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await PostAsync("experiments/set-experiment-tag", new { experiment_id = id, key = "", value = "x" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("experiments/set-experiment-tag", new { experiment_id = "987654", key = "k", value = "x" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");

        await PostAsync("experiments/delete-tag", new { experiment_id = id, key = "team" });
        Assert.False((await GetAsync($"experiments/get?experiment_id={id}")).GetProperty("experiment").TryGetProperty("tags", out var left) && left.GetArrayLength() > 0);
        AssertError(await PostAsync("experiments/delete-tag", new { experiment_id = id, key = "team" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
    }

    [SkippableFact]
    public async Task Experiments_CreateGetByIdAndName_DuplicateIs400_UnknownIs404_DefaultExists()
    {
        var name = $"fraud-{Guid.NewGuid():N}";
        var created = await PostAsync("experiments/create", new { name, tags = new[] { new { key = "team", value = "risk" } } });
        var id = created.GetProperty("experiment_id").GetString()!;

        var experiment = (await GetAsync($"experiments/get?experiment_id={id}")).GetProperty("experiment");
        Assert.Equal(name, experiment.GetProperty("name").GetString());
        Assert.Equal("active", experiment.GetProperty("lifecycle_stage").GetString());
        Assert.Equal(JsonValueKind.Number, experiment.GetProperty("creation_time").ValueKind);
        Assert.Equal("risk", experiment.GetProperty("tags")[0].GetProperty("value").GetString());
        Assert.Equal(id, (await GetAsync($"experiments/get-by-name?experiment_name={name}")).GetProperty("experiment").GetProperty("experiment_id").GetString());
        Assert.Equal("Default", (await GetAsync("experiments/get?experiment_id=0")).GetProperty("experiment").GetProperty("name").GetString());

        AssertError(await PostAsync("experiments/create", new { name }, HttpStatusCode.BadRequest), "RESOURCE_ALREADY_EXISTS");
        AssertError(await GetAsync("experiments/get?experiment_id=987654", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await GetAsync("experiments/get?experiment_id=abc", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await GetAsync("experiments/get-by-name?experiment_name=nope-" + Guid.NewGuid().ToString("N"), HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await GetAsync("experiments/get", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
    }

    [SkippableFact]
    public async Task Experiments_Search_FiltersOrdersAndPages()
    {
        var stem = $"srch{Guid.NewGuid():N}"[..12];
        foreach (var suffix in new[] { "c", "a", "b" })
        {
            await PostAsync("experiments/create", new { name = $"{stem}-{suffix}", tags = new[] { new { key = "kind", value = suffix == "b" ? "odd" : "even" } } });
        }
        var page = await PostAsync("experiments/search", new { filter = $"name LIKE '{stem}-%'", order_by = new[] { "name DESC" }, max_results = 2 });
        Assert.Equal([$"{stem}-c", $"{stem}-b"], page.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        var next = page.GetProperty("next_page_token").GetString();
        page = await PostAsync("experiments/search", new { filter = $"name LIKE '{stem}-%'", order_by = new[] { "name DESC" }, max_results = 2, page_token = next });
        Assert.Equal([$"{stem}-a"], page.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        Assert.False(page.TryGetProperty("next_page_token", out _));

        var tagged = await PostAsync("experiments/search", new { filter = $"attributes.name LIKE '{stem}%' AND tags.kind = 'odd'" });
        Assert.Equal($"{stem}-b", Assert.Single(tagged.GetProperty("experiments").EnumerateArray()).GetProperty("name").GetString());

        AssertError(await PostAsync("experiments/search", new { filter = "metrics.x > 1" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("experiments/search", new { max_results = 0 }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("experiments/search", new { page_token = "not-a-token" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
    }

    [SkippableFact]
    public async Task Run_Lifecycle_MetricsWithHistory_ParamsTagsUpdateAndDeleteTag()
    {
        var experiment = await ExperimentAsync();
        var created = (await PostAsync("runs/create", new { experiment_id = experiment, run_name = "forest-1", user_id = "ana", start_time = 1_700_000_000_000L,
            tags = new[] { new { key = "source", value = "notebook" } } })).GetProperty("run");
        var runId = created.GetProperty("info").GetProperty("run_id").GetString()!;
        Assert.Equal(runId, created.GetProperty("info").GetProperty("run_uuid").GetString());
        Assert.Equal("RUNNING", created.GetProperty("info").GetProperty("status").GetString());
        Assert.Equal("forest-1", created.GetProperty("info").GetProperty("run_name").GetString());
        Assert.Equal(1_700_000_000_000L, created.GetProperty("info").GetProperty("start_time").GetInt64());
        Assert.Equal("forest-1", Pairs(created, "tags")["mlflow.runName"]);

        for (var step = 0; step < 3; step++)
        {
            await PostAsync("runs/log-metric", new { run_id = runId, key = "auc", value = 0.8 + (step / 100.0), timestamp = 1_700_000_000_100L + step, step });
        }
        // An older step logged later does not become the latest value.
        await PostAsync("runs/log-metric", new { run_id = runId, key = "auc", value = 0.1, timestamp = 1_700_000_009_000L, step = 1 });
        await PostAsync("runs/log-metric", new { run_id = runId, key = "loss", value = "NaN", timestamp = 1_700_000_000_200L });
        await PostAsync("runs/log-parameter", new { run_id = runId, key = "trees", value = "100" });
        await PostAsync("runs/set-tag", new { run_id = runId, key = "stage", value = "dev" });
        await PostAsync("runs/set-tag", new { run_id = runId, key = "stage", value = "prod" });

        var run = (await GetAsync($"runs/get?run_id={runId}")).GetProperty("run");
        var metrics = run.GetProperty("data").GetProperty("metrics").EnumerateArray().ToDictionary(m => m.GetProperty("key").GetString()!);
        Assert.Equal(0.82, metrics["auc"].GetProperty("value").GetDouble(), 10);
        Assert.Equal(2, metrics["auc"].GetProperty("step").GetInt64());
        Assert.Equal("NaN", metrics["loss"].GetProperty("value").GetString());
        Assert.Equal("100", Pairs(run, "params")["trees"]);
        Assert.Equal("prod", Pairs(run, "tags")["stage"]);
        Assert.Equal("notebook", Pairs(run, "tags")["source"]);

        var history = (await GetAsync($"metrics/get-history?run_id={runId}&metric_key=auc")).GetProperty("metrics").EnumerateArray().ToList();
        Assert.Equal(4, history.Count);
        Assert.Equal([0L, 1L, 2L, 1L], history.Select(m => m.GetProperty("step").GetInt64()));
        var paged = await GetAsync($"metrics/get-history?run_id={runId}&metric_key=auc&max_results=3");
        Assert.Equal(3, paged.GetProperty("metrics").GetArrayLength());
        var rest = await GetAsync($"metrics/get-history?run_id={runId}&metric_key=auc&max_results=3&page_token={Uri.EscapeDataString(paged.GetProperty("next_page_token").GetString()!)}");
        Assert.Equal(0.1, Assert.Single(rest.GetProperty("metrics").EnumerateArray()).GetProperty("value").GetDouble());

        var info = (await PostAsync("runs/update", new { run_id = runId, status = "FINISHED", end_time = 1_700_000_100_000L, run_name = "forest-final" })).GetProperty("run_info");
        Assert.Equal("FINISHED", info.GetProperty("status").GetString());
        Assert.Equal(1_700_000_100_000L, info.GetProperty("end_time").GetInt64());
        Assert.Equal("forest-final", info.GetProperty("run_name").GetString());

        await PostAsync("runs/delete-tag", new { run_id = runId, key = "stage" });
        Assert.False(Pairs((await GetAsync($"runs/get?run_id={runId}")).GetProperty("run"), "tags").ContainsKey("stage"));
        AssertError(await PostAsync("runs/delete-tag", new { run_id = runId, key = "stage" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await GetAsync("runs/get?run_id=0123456789abcdef", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await PostAsync("runs/create", new { experiment_id = "424242" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
    }

    [SkippableFact]
    public async Task Params_AreImmutable_AndARejectedBatchWritesNothing()
    {
        var runId = await RunAsync(await ExperimentAsync());
        await PostAsync("runs/log-parameter", new { run_id = runId, key = "lr", value = "0.1" });
        await PostAsync("runs/log-parameter", new { run_id = runId, key = "lr", value = "0.1" }); // the same value again is fine
        AssertError(await PostAsync("runs/log-parameter", new { run_id = runId, key = "lr", value = "0.2" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");

        // One bad param in a batch: its metrics, params and tags are all refused.
        AssertError(await PostAsync("runs/log-batch", new
        {
            run_id = runId,
            metrics = new[] { new { key = "acc", value = 0.9, timestamp = 1L, step = 0L } },
            @params = new[] { new { key = "depth", value = "6" }, new { key = "lr", value = "0.3" } },
            tags = new[] { new { key = "t", value = "v" } },
        }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        var run = (await GetAsync($"runs/get?run_id={runId}")).GetProperty("run");
        Assert.False(run.GetProperty("data").TryGetProperty("metrics", out _));
        Assert.Equal(["lr"], Pairs(run, "params").Keys);
        Assert.False(Pairs(run, "tags").ContainsKey("t"));

        await PostAsync("runs/log-batch", new
        {
            run_id = runId,
            metrics = Enumerable.Range(0, 1000).Select(i => new { key = "m" + (i % 50), value = (double)i, timestamp = 1000L + i, step = (long)(i / 50) }),
        });
        run = (await GetAsync($"runs/get?run_id={runId}")).GetProperty("run");
        Assert.Equal(50, run.GetProperty("data").GetProperty("metrics").GetArrayLength());
        // Within one batch the latest value of a key is the one of the highest step: m7 was logged at steps 0..19.
        var m7 = run.GetProperty("data").GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("key").GetString() == "m7");
        Assert.Equal((957.0, 19L), (m7.GetProperty("value").GetDouble(), m7.GetProperty("step").GetInt64()));
        Assert.Equal(20, (await GetAsync($"metrics/get-history?run_id={runId}&metric_key=m7")).GetProperty("metrics").GetArrayLength());
        // A client retrying the same batch (every row already stored), then a batch that repeats a stored row and a new
        // one twice: each distinct (key, timestamp, step, value) is kept once, and what is new is written.
        await PostAsync("runs/log-batch", new
        {
            run_id = runId,
            metrics = Enumerable.Range(0, 1000).Select(i => new { key = "m" + (i % 50), value = (double)i, timestamp = 1000L + i, step = (long)(i / 50) }),
        });
        Assert.Equal(20, (await GetAsync($"metrics/get-history?run_id={runId}&metric_key=m7")).GetProperty("metrics").GetArrayLength());
        await PostAsync("runs/log-batch", new
        {
            run_id = runId,
            metrics = new[]
            {
                new { key = "m7", value = 957.0, timestamp = 1957L, step = 19L },
                new { key = "m7", value = 5.0, timestamp = 5000L, step = 30L },
                new { key = "m7", value = 5.0, timestamp = 5000L, step = 30L },
            },
        });
        var m7History = (await GetAsync($"metrics/get-history?run_id={runId}&metric_key=m7")).GetProperty("metrics").EnumerateArray().ToList();
        Assert.Equal(21, m7History.Count);
        Assert.Single(m7History, m => m.GetProperty("step").GetInt64() == 30);
        m7 = (await GetAsync($"runs/get?run_id={runId}")).GetProperty("run").GetProperty("data").GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("key").GetString() == "m7");
        Assert.Equal((5.0, 30L), (m7.GetProperty("value").GetDouble(), m7.GetProperty("step").GetInt64()));
        AssertError(await PostAsync("runs/log-batch", new
        {
            run_id = runId,
            metrics = Enumerable.Range(0, 1001).Select(i => new { key = "x", value = 1.0, timestamp = (long)i }),
        }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        Assert.DoesNotContain("x", (await GetAsync($"runs/get?run_id={runId}")).GetProperty("run").GetProperty("data").GetProperty("metrics").EnumerateArray().Select(m => m.GetProperty("key").GetString()));
    }

    [SkippableFact]
    public async Task RunsSearch_FilterGrammar_OrderBy_AndPaging()
    {
        var experiment = await ExperimentAsync();
        var ids = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var runId = await RunAsync(experiment, new[] { new { key = "team", value = i % 3 == 0 ? "Risk" : "growth" } });
            ids.Add(runId);
            await PostAsync("runs/log-batch", new
            {
                run_id = runId,
                metrics = new[] { new { key = "auc", value = 0.70 + (i / 100.0), timestamp = 1L, step = 0L }, new { key = "my metric", value = (double)i, timestamp = 1L, step = 0L } },
                @params = new[] { new { key = "model", value = i % 2 == 0 ? "forest" : "lgbm" }, new { key = "trees", value = (i * 10).ToString(System.Globalization.CultureInfo.InvariantCulture) } },
            });
            if (i < 4)
            {
                await PostAsync("runs/update", new { run_id = runId, status = "FINISHED", end_time = 2L });
            }
        }
        async Task<List<string>> SearchAsync(string filter, params string[] orderBy)
        {
            var body = await PostAsync("runs/search", new { experiment_ids = new[] { experiment }, filter, order_by = orderBy });
            return body.TryGetProperty("runs", out var runs) ? [.. runs.EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_id").GetString()!)] : [];
        }

        // metrics and params together, ordered by the metric
        Assert.Equal([ids[10], ids[8], ids[6]], await SearchAsync("metrics.auc >= 0.755 and params.model = 'forest'", "metrics.auc DESC"));
        Assert.Equal([ids[0], ids[2]], await SearchAsync("metrics.`my metric` < 3 AND params.model != 'lgbm'", "metrics.auc ASC"));
        Assert.Equal([ids[0], ids[2]], await SearchAsync("metrics.\"my metric\" < 3 AND params.model != 'lgbm'", "metrics.auc ASC"));
        Assert.Equal([ids[0], ids[2]], await SearchAsync("attributes.status = 'FINISHED' and params.model = 'forest'", "attributes.start_time ASC", "metrics.auc"));
        // LIKE is case-sensitive, ILIKE is not; IN lists
        Assert.Empty(await SearchAsync("tags.team LIKE 'risk'"));
        Assert.Equal(4, (await SearchAsync("tags.team ILIKE 'risk'")).Count);
        Assert.Equal(4, (await SearchAsync("tags.team LIKE 'R%'")).Count);
        Assert.Equal([ids[1], ids[3]], await SearchAsync("params.trees IN ('10', '30')", "metrics.auc"));
        Assert.Equal([ids[11]], await SearchAsync($"attributes.run_id = '{ids[11]}'"));

        // every run once across pages, in the requested order
        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = await PostAsync("runs/search", new { experiment_ids = new[] { experiment }, order_by = new[] { "params.trees DESC" }, max_results = 5, page_token = token });
            seen.AddRange(page.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_id").GetString()!));
            token = page.TryGetProperty("next_page_token", out var next) ? next.GetString() : null;
        }
        while (token is not null);
        Assert.Equal(ids.Count, seen.Distinct().Count());
        Assert.Equal(ids.Count, seen.Count);

        foreach (var bad in new[] { "metrics.auc > 'high'", "params.model = forest", "metrics.auc > 1 OR params.x = 'y'", "foo.auc > 1", "metrics.auc >", "attributes.colour = 'red'",
                     "metrics.auc LIKE '1%'", "params.model = 'unterminated", "tags.team IN 'a'" })
        {
            AssertError(await PostAsync("runs/search", new { experiment_ids = new[] { experiment }, filter = bad }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        }
        AssertError(await PostAsync("runs/search", new { experiment_ids = new[] { experiment }, order_by = new[] { "metrics.auc SIDEWAYS" } }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("runs/search", new { experiment_ids = new[] { experiment }, max_results = 50_001 }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
    }

    [SkippableFact]
    public async Task Delete_AndRestore_RunsAndExperiments_ByViewType()
    {
        var experiment = await ExperimentAsync();
        var kept = await RunAsync(experiment);
        var dropped = await RunAsync(experiment);
        async Task<List<string>> RunsAsync(string view) =>
            (await PostAsync("runs/search", new { experiment_ids = new[] { experiment }, run_view_type = view })).GetProperty("runs").EnumerateArray()
                .Select(r => r.GetProperty("info").GetProperty("run_id").GetString()!).Order(StringComparer.Ordinal).ToList();

        await PostAsync("runs/delete", new { run_id = dropped });
        Assert.Equal([kept], await RunsAsync("ACTIVE_ONLY"));
        Assert.Equal([dropped], await RunsAsync("DELETED_ONLY"));
        Assert.Equal(new[] { kept, dropped }.Order(StringComparer.Ordinal), await RunsAsync("ALL"));
        Assert.Equal("deleted", (await GetAsync($"runs/get?run_id={dropped}")).GetProperty("run").GetProperty("info").GetProperty("lifecycle_stage").GetString());
        AssertError(await PostAsync("runs/log-metric", new { run_id = dropped, key = "m", value = 1, timestamp = 1 }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        await PostAsync("runs/restore", new { run_id = dropped });
        Assert.Equal(2, (await RunsAsync("ACTIVE_ONLY")).Count);

        await PostAsync("experiments/delete", new { experiment_id = experiment });
        Assert.Empty(await RunsAsync("ACTIVE_ONLY"));
        var deleted = await PostAsync("experiments/search", new { view_type = "DELETED_ONLY", max_results = 50_000 });
        Assert.Contains(experiment, deleted.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("experiment_id").GetString()));
        var active = await PostAsync("experiments/search", new { max_results = 50_000 });
        Assert.DoesNotContain(experiment, active.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("experiment_id").GetString()));
        AssertError(await PostAsync("runs/create", new { experiment_id = experiment }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("runs/restore", new { run_id = kept }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("experiments/delete", new { experiment_id = experiment }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");

        await PostAsync("experiments/restore", new { experiment_id = experiment });
        Assert.Equal(2, (await RunsAsync("ACTIVE_ONLY")).Count);
        AssertError(await PostAsync("experiments/restore", new { experiment_id = experiment }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("experiments/delete", new { experiment_id = "0" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("experiments/delete", new { experiment_id = "987654" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await PostAsync("runs/delete", new { run_id = "0123456789abcdef" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await PostAsync("experiments/delete", new { }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "experiments/create", "{}" },
        { "experiments/create", "{\"name\": 5}" },
        { "experiments/create", "{\"name\": \"  \"}" },
        { "experiments/create", "{\"name\": \"x\", \"tags\": {\"key\": \"a\"}}" },
        { "experiments/create", "not json" },
        { "experiments/create", "[1, 2]" },
        { "runs/create", "{\"experiment_id\": \"0\", \"start_time\": \"yesterday\"}" },
        { "runs/create", "{\"experiment_id\": \"0\", \"tags\": [{\"key\": \"../etc\", \"value\": \"x\"}]}" },
        { "runs/update", "{\"status\": \"FINISHED\"}" },
        { "runs/update", "{\"run_id\": \"RUN\", \"status\": \"DONE\"}" },
        { "runs/update", "{\"run_id\": \"RUN\", \"status\": 7}" },
        { "runs/update", "{\"run_id\": \"RUN\", \"status\": \"9\"}" },
        { "runs/log-batch", "{\"run_id\": \"RUN\", \"metrics\": [null]}" },
        { "runs/log-batch", "{\"run_id\": \"RUN\", \"tags\": [{\"key\": \"t\", \"value\": 5}]}" },
        { "runs/log-metric", "{\"run_id\": \"RUN\", \"key\": \"m\", \"value\": 1, \"timestamp\": {}}" },
        { "runs/create", "null" },
        { "experiments/create", "{\"name\": \"" + new string('e', 300) + "\"}" },
        { "experiments/create", "{\"name\": \"nul\\u0000name\"}" },
        { "runs/create", "{\"experiment_id\": \"0\", \"start_time\": -1}" },
        { "runs/create", "{\"experiment_id\": \"0\", \"tags\": [{\"key\": \"mlflow.parentRunId\", \"value\": \"0123456789abcdef\"}]}" },
        { "runs/update", "{\"run_id\": \"RUN\", \"end_time\": -5}" },
        { "runs/log-metric", "{\"run_id\": \"RUN\", \"key\": \"m\", \"value\": 1, \"timestamp\": -1}" },
        { "runs/log-parameter", "{\"run_id\": \"RUN\", \"key\": \"p\", \"value\": \"a\\u0000b\"}" },
        { "runs/set-tag", "{\"run_id\": \"RUN\", \"key\": \"mlflow.parentRunId\", \"value\": \"nope\"}" },
        { "runs/create", "" },
        { "runs/log-metric", "{\"run_id\": \"RUN\", \"key\": \"m\", \"value\": 1}" },
        { "runs/log-metric", "{\"run_id\": \"RUN\", \"key\": \"m\", \"timestamp\": 1}" },
        { "runs/log-metric", "{\"run_id\": \"RUN\", \"key\": \"m\", \"value\": \"high\", \"timestamp\": 1}" },
        { "runs/log-metric", "{\"run_id\": \"RUN\", \"key\": \"bad|name\", \"value\": 1, \"timestamp\": 1}" },
        { "runs/log-metric", "{\"run_id\": \"RUN\", \"value\": 1, \"timestamp\": 1}" },
        { "runs/log-parameter", "{\"run_id\": \"RUN\", \"key\": \"p\"}" },
        { "runs/log-parameter", "{\"run_id\": \"RUN\", \"key\": \"p\", \"value\": \"" + new string('v', 6001) + "\"}" },
        { "runs/set-tag", "{\"run_id\": \"RUN\", \"value\": \"v\"}" },
        { "runs/set-tag", "{\"run_id\": \"RUN\", \"key\": \"" + new string('k', 251) + "\", \"value\": \"v\"}" },
        { "runs/delete-tag", "{\"run_id\": \"RUN\"}" },
        { "runs/log-batch", "{\"run_id\": \"RUN\", \"metrics\": [1, 2]}" },
        { "runs/log-batch", "{\"run_id\": \"RUN\", \"params\": [{\"key\": \"a\", \"value\": \"1\"}, {\"key\": \"a\", \"value\": \"2\"}]}" },
        { "runs/log-batch", "{\"metrics\": []}" },
        { "runs/search", "{\"experiment_ids\": {\"a\": 1}}" },
        { "runs/search", "{\"run_view_type\": \"SOME\"}" },
        { "experiments/search", "{\"order_by\": [\"name SIDEWAYS\"]}" },
    };

    [SkippableTheory]
    [MemberData(nameof(BadBodies))]
    public async Task Endpoint_BadBody_Is400InvalidParameterValue_AndWritesNothing(string path, string body)
    {
        var runId = await RunAsync(await ExperimentAsync());
        var before = (await GetAsync($"runs/get?run_id={runId}")).GetRawText();
        var experiments = (await PostAsync("experiments/search", new { view_type = "ALL", max_results = 50_000 })).GetProperty("experiments").GetArrayLength();

        using var response = await Http.PostAsync(Api + path, new StringContent(body.Replace("RUN", runId, StringComparison.Ordinal), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path} {body}: {(int)response.StatusCode} {text}");
        AssertError(JsonDocument.Parse(text).RootElement, "INVALID_PARAMETER_VALUE");

        Assert.Equal(before, (await GetAsync($"runs/get?run_id={runId}")).GetRawText());
        Assert.Equal(experiments, (await PostAsync("experiments/search", new { view_type = "ALL", max_results = 50_000 })).GetProperty("experiments").GetArrayLength());
    }

    /// <summary>Tokens that are valid base64 of JSON but not of a page position (found by a hostile test: each was a 500).</summary>
    [SkippableTheory]
    [InlineData("-1")]
    [InlineData("{\"offset\": \"a\"}")]
    [InlineData("{\"offset\": -5}")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("{\"offset\": 1e99}")]
    public async Task PageToken_NotAPosition_Is400_OnEverySearch(string json)
    {
        var token = Uri.EscapeDataString(Convert.ToBase64String(Encoding.UTF8.GetBytes(json)));
        AssertError(await PostAsync("experiments/search", new { page_token = Uri.UnescapeDataString(token) }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("runs/search", new { page_token = Uri.UnescapeDataString(token) }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await GetAsync($"metrics/get-history?run_id=abc&metric_key=m&page_token={token}", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await GetAsync($"registered-models/search?page_token={token}", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await GetAsync($"model-versions/search?page_token={token}", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
    }

    [SkippableFact]
    public async Task UnknownPaths_AndBodiesNotDeclaredJson_AnswerInMlflowsShape()
    {
        foreach (var (method, path) in new[] { ("GET", "no/such/call"), ("POST", "runs/no-such-call"), ("POST", "runs/get"), ("DELETE", "experiments/create") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), Api + path);
            using var response = await Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            AssertError(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement, "ENDPOINT_NOT_FOUND");
        }
        var before = (await PostAsync("experiments/search", new { view_type = "ALL", max_results = 50_000 })).GetProperty("experiments").GetArrayLength();
        using var form = await Http.PostAsync(Api + "experiments/create", new StringContent("{\"name\": \"form-posted\"}", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.BadRequest, form.StatusCode);
        AssertError(JsonDocument.Parse(await form.Content.ReadAsStringAsync()).RootElement, "INVALID_PARAMETER_VALUE");
        Assert.Equal(before, (await PostAsync("experiments/search", new { view_type = "ALL", max_results = 50_000 })).GetProperty("experiments").GetArrayLength());
    }

    [SkippableFact]
    public async Task OpenApi_DescribesTheCallsWithTypedBodies()
    {
        using var document = JsonDocument.Parse(await Http.GetStringAsync("/openapi/registry.json"));
        var create = document.RootElement.GetProperty("paths").GetProperty("/api/2.0/mlflow/runs/log-batch").GetProperty("post");
        Assert.Contains("LogBatchRequest", create.GetProperty("requestBody").GetRawText(), StringComparison.Ordinal);
        Assert.Contains("EmptyResponse", create.GetProperty("responses").GetProperty("200").GetRawText(), StringComparison.Ordinal);
        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        var metric = schemas.GetProperty("MetricInput").GetProperty("properties");
        Assert.True(metric.TryGetProperty("timestamp", out _));
        var status = schemas.GetProperty("RunStatus");
        Assert.Equal("string", status.GetProperty("type").GetString());
        Assert.Contains("FINISHED", status.GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        var runs = schemas.GetProperty("RunsPage").GetProperty("properties");
        Assert.True(runs.TryGetProperty("runs", out _) && runs.TryGetProperty("next_page_token", out _));
    }

    [SkippableFact]
    public async Task GetCalls_TakeQueryParameters_MissingOnesAre400()
    {
        AssertError(await GetAsync("runs/get", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await GetAsync("metrics/get-history?run_id=abc", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await GetAsync("metrics/get-history?run_id=abc&metric_key=m", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        var runId = await RunAsync(await ExperimentAsync());
        AssertError(await GetAsync($"metrics/get-history?run_id={runId}&metric_key=m&max_results=0", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        Assert.False((await GetAsync($"metrics/get-history?run_id={runId}&metric_key=m")).TryGetProperty("metrics", out var none) && none.GetArrayLength() > 0);
    }
}

public sealed class SqliteMlflowApiTests(UnseededMonolithFixture fixture) : MlflowApiTests(fixture), IClassFixture<UnseededMonolithFixture>;

public sealed class PostgresMlflowApiTests(PostgresMonolithFixture fixture) : MlflowApiTests(fixture), IClassFixture<PostgresMonolithFixture>
{
    [SkippableFact]
    public async Task Writes_LandInPostgres_NotInAFile()
    {
        using var created = await fixture.Http.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = "in-postgres" });
        created.EnsureSuccessStatusCode();
        await using var connection = new Npgsql.NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT COUNT(*) FROM experiments WHERE name = 'in-postgres'", connection);
        Assert.Equal(1L, await command.ExecuteScalarAsync());
        await using var registry = new Npgsql.NpgsqlCommand("SELECT COUNT(*) FROM information_schema.tables WHERE table_name IN ('model_versions', 'outbox')", connection);
        Assert.Equal(2L, await registry.ExecuteScalarAsync());
    }
}
