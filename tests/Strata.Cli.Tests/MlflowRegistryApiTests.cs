using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Strata.Cli.Tests;

/// <summary>MLflow's model registry calls (registered-models, model-versions, aliases) on a seeded monolith: the seed
/// training's run can be registered under another name the MLflow way (<c>runs:/&lt;id&gt;/model</c>).</summary>
public abstract class MlflowRegistryApiTests(ServingFixture fixture)
{
    private const string Api = "api/2.0/mlflow/";

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(method, new Uri(Api + path, UriKind.Relative)) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await fixture.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private Task<JsonElement> GetAsync(string path, HttpStatusCode expected = HttpStatusCode.OK) => SendAsync(HttpMethod.Get, path, null, expected);

    private Task<JsonElement> PostAsync(string path, object body, HttpStatusCode expected = HttpStatusCode.OK) => SendAsync(HttpMethod.Post, path, body, expected);

    private static void AssertError(JsonElement body, string code) => Assert.Equal(code, body.GetProperty("error_code").GetString());

    private async Task<string> SeedRunIdAsync() =>
        (await GetAsync("model-versions/get?name=seed&version=1")).GetProperty("model_version").GetProperty("run_id").GetString()!;

    [Fact]
    public async Task RegisteredModel_GetCreateSearch_InMlflowShape()
    {
        var seed = (await GetAsync("registered-models/get?name=seed")).GetProperty("registered_model");
        Assert.Equal("1", seed.GetProperty("latest_versions")[0].GetProperty("version").GetString());
        Assert.Equal("READY", seed.GetProperty("latest_versions")[0].GetProperty("status").GetString());
        var champion = seed.GetProperty("aliases").EnumerateArray().Single(a => a.GetProperty("alias").GetString() == "champion");
        Assert.Equal("1", champion.GetProperty("version").GetString());

        var name = $"mlf-{Guid.NewGuid():N}"[..14];
        var created = (await PostAsync("registered-models/create", new { name })).GetProperty("registered_model");
        Assert.Equal(name, created.GetProperty("name").GetString());
        Assert.False(created.TryGetProperty("latest_versions", out _));
        AssertError(await PostAsync("registered-models/create", new { name }, HttpStatusCode.BadRequest), "RESOURCE_ALREADY_EXISTS");
        AssertError(await PostAsync("registered-models/create", new { name = "bad name!" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("registered-models/create", new { name = name + "x", tags = new[] { new { key = "k", value = new string('v', 5001) } } }, HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE");
        AssertError(await GetAsync("registered-models/get?name=" + name + "x", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");

        var found = await GetAsync($"registered-models/search?filter={Uri.EscapeDataString($"name LIKE '{name[..6]}%'")}");
        Assert.Contains(name, found.GetProperty("registered_models").EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        Assert.DoesNotContain("seed", found.GetProperty("registered_models").EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        var first = await GetAsync("registered-models/search?max_results=1&order_by=name%20ASC");
        Assert.Single(first.GetProperty("registered_models").EnumerateArray());
        var second = await GetAsync($"registered-models/search?max_results=1&order_by=name%20ASC&page_token={Uri.EscapeDataString(first.GetProperty("next_page_token").GetString()!)}");
        Assert.NotEqual(first.GetProperty("registered_models")[0].GetProperty("name").GetString(), second.GetProperty("registered_models")[0].GetProperty("name").GetString());
        AssertError(await GetAsync("registered-models/search?filter=tags.k%20%3D%20'v'", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await GetAsync("registered-models/search?max_results=0", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
    }

    [Fact]
    public async Task ModelVersion_CreatedFromARun_CarriesItsArtifactAndLineage_AndAliasesWork()
    {
        var runId = await SeedRunIdAsync();
        var name = $"promoted-{Guid.NewGuid():N}"[..18];
        var version = (await PostAsync("model-versions/create", new { name, source = $"runs:/{runId}/model", description = "from the seed run" })).GetProperty("model_version");
        Assert.Equal("1", version.GetProperty("version").GetString());
        Assert.Equal(runId, version.GetProperty("run_id").GetString());
        Assert.Equal($"runs:/{runId}/model", version.GetProperty("source").GetString());

        // Same artifact and inputs as the version the run produced, through Strata's own API.
        using var seedResponse = await fixture.Http.GetAsync(new Uri("api/registry/models/seed/versions/1", UriKind.Relative));
        using var promotedResponse = await fixture.Http.GetAsync(new Uri($"api/registry/models/{name}/versions/1", UriKind.Relative));
        var seed = JsonDocument.Parse(await seedResponse.Content.ReadAsStringAsync()).RootElement;
        var promoted = JsonDocument.Parse(await promotedResponse.Content.ReadAsStringAsync()).RootElement;
        foreach (var field in new[] { "artifact_sha256", "dataset_version", "feature_view", "run_id" })
        {
            Assert.Equal(seed.GetProperty(field).GetString(), promoted.GetProperty(field).GetString());
        }
        Assert.Equal(seed.GetProperty("feature_names").GetRawText(), promoted.GetProperty("feature_names").GetRawText());

        await PostAsync("registered-models/alias", new { name, alias = "challenger", version = "1" });
        var aliased = (await GetAsync($"registered-models/alias?name={name}&alias=challenger")).GetProperty("model_version");
        Assert.Equal("1", aliased.GetProperty("version").GetString());
        Assert.Contains("challenger", aliased.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        AssertError(await PostAsync("registered-models/alias", new { name, alias = "latest", version = "1" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("registered-models/alias", new { name, alias = "x", version = "one" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("registered-models/alias", new { name, alias = "x", version = "9" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await GetAsync($"registered-models/alias?name={name}&alias=nobody", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");

        // DeleteRegisteredModelAlias: DELETE with a JSON body, as MLflow's clients send it (a query string works too).
        await SendAsync(HttpMethod.Delete, "registered-models/alias", new { name, alias = "challenger" });
        AssertError(await GetAsync($"registered-models/alias?name={name}&alias=challenger", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        Assert.DoesNotContain("challenger", (await GetAsync($"model-versions/get?name={name}&version=1")).GetProperty("model_version")
            .TryGetProperty("aliases", out var left) ? left.EnumerateArray().Select(a => a.GetString()) : []);
        AssertError(await SendAsync(HttpMethod.Delete, "registered-models/alias", new { name, alias = "challenger" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await SendAsync(HttpMethod.Delete, "registered-models/alias", new { name }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await SendAsync(HttpMethod.Delete, "registered-models/alias", new { name, alias = "latest" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        await PostAsync("registered-models/alias", new { name, alias = "gone", version = "1" });
        await SendAsync(HttpMethod.Delete, $"registered-models/alias?name={name}&alias=gone", null);
        AssertError(await GetAsync($"registered-models/alias?name={name}&alias=gone", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");

        var byRun = await GetAsync($"model-versions/search?filter={Uri.EscapeDataString($"run_id = '{runId}'")}");
        // The seed's run registered "seed" v1 and, here, this model (other tests register it under more names).
        Assert.Superset(new HashSet<string?> { name, "seed" }, byRun.GetProperty("model_versions").EnumerateArray().Select(v => v.GetProperty("name").GetString()).ToHashSet());
        var byName = await GetAsync($"model-versions/search?filter={Uri.EscapeDataString($"name = '{name}'")}");
        Assert.Equal(name, Assert.Single(byName.GetProperty("model_versions").EnumerateArray()).GetProperty("name").GetString());
        AssertError(await GetAsync($"model-versions/get?name={name}&version=2", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await GetAsync($"model-versions/get?name={name}&version=zero", HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
    }

    private static Dictionary<string, string> Tags(JsonElement entity) =>
        entity.TryGetProperty("tags", out var tags) ? tags.EnumerateArray().ToDictionary(t => t.GetProperty("key").GetString()!, t => t.GetProperty("value").GetString()!) : [];

    [Fact]
    public async Task Tags_OfRegisteredModelsAndVersions_SetGetDelete()
    {
        var name = $"tagged-{Guid.NewGuid():N}"[..20];
        var created = (await PostAsync("registered-models/create", new { name, tags = new[] { new { key = "team", value = "risk" } } })).GetProperty("registered_model");
        Assert.Equal(new Dictionary<string, string> { ["team"] = "risk" }, Tags(created));
        await PostAsync("registered-models/set-tag", new { name, key = "tier", value = "gold" });
        await PostAsync("registered-models/set-tag", new { name, key = "team", value = "fraud" });
        Assert.Equal(new Dictionary<string, string> { ["team"] = "fraud", ["tier"] = "gold" }, Tags((await GetAsync($"registered-models/get?name={name}")).GetProperty("registered_model")));
        await SendAsync(HttpMethod.Delete, "registered-models/delete-tag", new { name, key = "tier" });
        Assert.Equal(["team"], Tags((await GetAsync($"registered-models/get?name={name}")).GetProperty("registered_model")).Keys);
        AssertError(await SendAsync(HttpMethod.Delete, "registered-models/delete-tag", new { name, key = "tier" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await PostAsync("registered-models/set-tag", new { name = "no-such-model", key = "a", value = "b" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await PostAsync("registered-models/set-tag", new { name, key = "../x", value = "b" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("registered-models/set-tag", new { name, value = "b" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("registered-models/create", new { name = name + "-x", tags = new[] { new { key = "", value = "b" } } }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await GetAsync($"registered-models/get?name={name}-x", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");

        await PostAsync("model-versions/set-tag", new { name = "seed", version = "1", key = "validated_by", value = "ci" });
        Assert.Equal("ci", Tags((await GetAsync("model-versions/get?name=seed&version=1")).GetProperty("model_version"))["validated_by"]);
        await SendAsync(HttpMethod.Delete, "model-versions/delete-tag?name=seed&version=1&key=validated_by", null);
        Assert.False(Tags((await GetAsync("model-versions/get?name=seed&version=1")).GetProperty("model_version")).ContainsKey("validated_by"));
        AssertError(await PostAsync("model-versions/set-tag", new { name = "seed", version = "99", key = "a", value = "b" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await PostAsync("model-versions/set-tag", new { name = "seed", version = "one", key = "a", value = "b" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await SendAsync(HttpMethod.Delete, "model-versions/delete-tag", new { name = "seed", version = "1", key = "never" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");

        var runId = await SeedRunIdAsync();
        var tagged = (await PostAsync("model-versions/create", new { name, source = $"runs:/{runId}/model", tags = new[] { new { key = "stage", value = "shadow" } } })).GetProperty("model_version");
        Assert.Equal(new Dictionary<string, string> { ["stage"] = "shadow" }, Tags(tagged));
    }

    [Fact]
    public async Task ModelVersionCreate_BadSources_AreRefused_OthersRegisterAsMlflowDoes()
    {
        var name = $"sources-{Guid.NewGuid():N}"[..17];
        AssertError(await PostAsync("model-versions/create", new { name, source = "runs:/0123456789abcdef0123456789abcdef/model" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await PostAsync("model-versions/create", new { name }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        var plain = (await PostAsync("runs/create", new { experiment_id = "0" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
        AssertError(await PostAsync("model-versions/create", new { name, source = $"runs:/{plain}/model", run_id = await SeedRunIdAsync() }, HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE");
        AssertError(await GetAsync($"registered-models/get?name={name}", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");

        // What MLflow registers, Strata registers: a run that logged nothing here, a URI elsewhere. READY, not servable.
        var empty = (await PostAsync("model-versions/create", new { name, source = $"runs:/{plain}/model" })).GetProperty("model_version");
        Assert.Equal(("READY", plain), (empty.GetProperty("status").GetString(), empty.GetProperty("run_id").GetString()));
        var s3 = (await PostAsync("model-versions/create", new { name, source = "s3://bucket/model" })).GetProperty("model_version");
        Assert.Equal("s3://bucket/model", s3.GetProperty("source").GetString());
        var copy = (await PostAsync("model-versions/create", new { name, source = "models:/seed/1" })).GetProperty("model_version");
        Assert.Equal("models:/seed/1", (await GetAsync($"model-versions/get-download-uri?name={name}&version={copy.GetProperty("version").GetString()}")).GetProperty("artifact_uri").GetString());
    }

    [Fact]
    public async Task Stages_TransitionAndLatestVersions_AndDescriptionUpdates()
    {
        var name = $"stages-{Guid.NewGuid():N}"[..16];
        var runId = await SeedRunIdAsync();
        var v1 = (await PostAsync("model-versions/create", new { name, source = $"runs:/{runId}/model" })).GetProperty("model_version").GetProperty("version").GetString();
        var v2 = (await PostAsync("model-versions/create", new { name, source = $"runs:/{runId}/model" })).GetProperty("model_version").GetProperty("version").GetString();
        var moved = (await PostAsync("model-versions/transition-stage", new { name, version = v1, stage = "production", archive_existing_versions = false })).GetProperty("model_version");
        Assert.Equal("Production", moved.GetProperty("current_stage").GetString());
        Assert.True(moved.GetProperty("tags").ValueKind == JsonValueKind.Undefined || !moved.GetProperty("tags").EnumerateArray().Any(), "the stage is not a tag");
        await PostAsync("model-versions/transition-stage", new { name, version = v2, stage = "Production", archive_existing_versions = true });
        Assert.Equal("Archived", (await GetAsync($"model-versions/get?name={name}&version={v1}")).GetProperty("model_version").GetProperty("current_stage").GetString());
        var latest = (await PostAsync("registered-models/get-latest-versions", new { name, stages = new[] { "Production" } })).GetProperty("model_versions");
        Assert.Equal([v2], latest.EnumerateArray().Select(v => v.GetProperty("version").GetString()));
        Assert.Equal(2, (await PostAsync("registered-models/get-latest-versions", new { name })).GetProperty("model_versions").GetArrayLength());
        AssertError(await PostAsync("model-versions/transition-stage", new { name, version = v1, stage = "Canary" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
        AssertError(await PostAsync("model-versions/transition-stage", new { name, version = "99", stage = "Staging" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await PostAsync("registered-models/get-latest-versions", new { name = "nope-model" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");

        var updated = (await SendAsync(HttpMethod.Patch, "model-versions/update", new { name, version = v2, description = "the one in production" })).GetProperty("model_version");
        Assert.Equal("the one in production", updated.GetProperty("description").GetString());
        AssertError(await SendAsync(HttpMethod.Patch, "model-versions/update", new { name, version = "99", description = "x" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        var model = (await SendAsync(HttpMethod.Patch, "registered-models/update", new { name, description = "stages test model" })).GetProperty("registered_model");
        Assert.Equal("stages test model", model.GetProperty("description").GetString());
        Assert.Equal("stages test model", (await GetAsync($"registered-models/get?name={name}")).GetProperty("registered_model").GetProperty("description").GetString());
        AssertError(await SendAsync(HttpMethod.Patch, "registered-models/update", new { name = "nope-model", description = "x" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await SendAsync(HttpMethod.Patch, "registered-models/update", new { name, description = new string('x', 5001) }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");

        // Renamed: versions, stages, description and tags move; the old name is gone; a taken name is refused.
        await PostAsync("registered-models/set-tag", new { name, key = "team", value = "risk" });
        var renamed = $"{name}-renamed";
        var renamedModel = (await PostAsync("registered-models/rename", new { name, new_name = renamed })).GetProperty("registered_model");
        Assert.Equal((renamed, "stages test model"), (renamedModel.GetProperty("name").GetString(), renamedModel.GetProperty("description").GetString()));
        Assert.Equal("Production", (await GetAsync($"model-versions/get?name={renamed}&version={v2}")).GetProperty("model_version").GetProperty("current_stage").GetString());
        Assert.Equal("risk", (await GetAsync($"registered-models/get?name={renamed}")).GetProperty("registered_model").GetProperty("tags")[0].GetProperty("value").GetString());
        AssertError(await GetAsync($"registered-models/get?name={name}", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await PostAsync("registered-models/rename", new { name = renamed, new_name = "seed" }, HttpStatusCode.BadRequest), "RESOURCE_ALREADY_EXISTS");
        AssertError(await PostAsync("registered-models/rename", new { name = "nope-model", new_name = "x-y" }, HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
        AssertError(await PostAsync("registered-models/rename", new { name = renamed, new_name = "../x" }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
    }
}

public sealed class SqliteMlflowRegistryApiTests(MonolithFixture fixture) : MlflowRegistryApiTests(fixture), IClassFixture<MonolithFixture>;

public sealed class PostgresMlflowRegistryApiTests(PostgresMonolithServingFixture fixture) : MlflowRegistryApiTests(fixture), IClassFixture<PostgresMonolithServingFixture>;
