using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Strata.Cli.Tests;

/// <summary>Every training is a tracking run: the seeded monolith's first version links to its run and back.</summary>
public sealed class TrainingTrackingTests(MonolithFixture fixture) : IClassFixture<MonolithFixture>
{
    private async Task<JsonElement> GetAsync(string path)
    {
        using var response = await fixture.Http.GetAsync(new Uri(path, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    [Fact]
    public async Task Version_LinksToItsRun_WithTheSameParamsAndMetrics_AndTheRunLinksBack()
    {
        var version = await GetAsync("api/registry/models/seed/versions/1");
        var runId = version.GetProperty("run_id").GetString()!;

        var run = (await GetAsync($"api/2.0/mlflow/runs/get?run_id={runId}")).GetProperty("run");
        var info = run.GetProperty("info");
        Assert.Equal("FINISHED", info.GetProperty("status").GetString());
        Assert.True(info.GetProperty("end_time").GetInt64() >= info.GetProperty("start_time").GetInt64());
        var experiment = (await GetAsync("api/2.0/mlflow/experiments/get-by-name?experiment_name=seed")).GetProperty("experiment");
        Assert.Equal(experiment.GetProperty("experiment_id").GetString(), info.GetProperty("experiment_id").GetString());

        var data = run.GetProperty("data");
        var metrics = data.GetProperty("metrics").EnumerateArray().ToDictionary(m => m.GetProperty("key").GetString()!, m => m.GetProperty("value").GetDouble());
        foreach (var metric in version.GetProperty("metrics").EnumerateObject())
        {
            Assert.Equal(metric.Value.GetDouble(), metrics[metric.Name], 12);
        }
        var parameters = data.GetProperty("params").EnumerateArray().ToDictionary(p => p.GetProperty("key").GetString()!, p => p.GetProperty("value").GetString());
        foreach (var param in version.GetProperty("params").EnumerateObject())
        {
            Assert.Equal(param.Value.GetString(), parameters[param.Name]);
        }
        var tags = data.GetProperty("tags").EnumerateArray().ToDictionary(t => t.GetProperty("key").GetString()!, t => t.GetProperty("value").GetString());
        Assert.Equal("seed/1", tags["strata.model_version"]);
        Assert.Equal(version.GetProperty("dataset_version").GetString(), tags["strata.dataset_version"]);

        // And the run is found by searching for it as MLflow users do.
        using var search = await fixture.Http.PostAsJsonAsync("api/2.0/mlflow/runs/search", new
        {
            experiment_ids = new[] { experiment.GetProperty("experiment_id").GetString() },
            filter = "tags.strata.model_version = 'seed/1' and metrics.auc > 0.5",
        });
        var found = JsonDocument.Parse(await search.Content.ReadAsStringAsync()).RootElement.GetProperty("runs");
        Assert.Equal(runId, Assert.Single(found.EnumerateArray()).GetProperty("info").GetProperty("run_id").GetString());
    }
}
