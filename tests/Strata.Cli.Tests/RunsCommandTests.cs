using System.Net.Http.Json;
using System.Text.Json;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary><c>strata runs ls|compare</c> run as the real executable against a monolith's MLflow-compatible API.</summary>
public sealed class RunsCommandTests(UnseededMonolithFixture fixture) : IClassFixture<UnseededMonolithFixture>
{
    private string Url => fixture.Http.BaseAddress!.ToString();

    private async Task<(int Exit, string Stdout, string Stderr)> CliAsync(params string[] args) =>
        await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), fixture.CliEnvironment, [.. args, "--url", Url]);

    private async Task<JsonElement> PostAsync(string path, object body)
    {
        using var response = await fixture.Http.PostAsJsonAsync("/api/2.0/mlflow/" + path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>An experiment with three finished runs: trees 100/200/300, auc rising with the trees.</summary>
    private async Task<(string Experiment, string[] Runs)> SeedAsync()
    {
        var name = $"cli-{Guid.NewGuid():N}"[..16];
        var experiment = (await PostAsync("experiments/create", new { name })).GetProperty("experiment_id").GetString()!;
        var runs = new List<string>();
        for (var i = 1; i <= 3; i++)
        {
            var run = (await PostAsync("runs/create", new { experiment_id = experiment, run_name = $"forest-{i}", start_time = 1_700_000_000_000L + i }))
                .GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
            await PostAsync("runs/log-batch", new
            {
                run_id = run,
                metrics = new[] { new { key = "auc", value = 0.9 + (i / 100.0), timestamp = 1L, step = 0L } },
                @params = new[] { new { key = "trees", value = (i * 100).ToString(System.Globalization.CultureInfo.InvariantCulture) }, new { key = "seed", value = "42" } },
            });
            await PostAsync("runs/update", new { run_id = run, status = "FINISHED", end_time = 1_700_000_005_000L });
            runs.Add(run);
        }
        return (name, [.. runs]);
    }

    [Fact]
    public async Task Ls_FiltersAndOrders_AsTableAndJson()
    {
        var (experiment, runs) = await SeedAsync();

        var (exit, stdout, stderr) = await CliAsync("runs", "ls", "--experiment", experiment, "--filter", "metrics.auc > 0.915", "--order-by", "metrics.auc DESC", "--json");
        Assert.True(exit == 0, stderr);
        var listed = JsonDocument.Parse(stdout).RootElement.EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_id").GetString()).ToList();
        Assert.Equal([runs[2], runs[1]], listed);

        (exit, stdout, stderr) = await CliAsync("runs", "ls", "--experiment", experiment);
        Assert.True(exit == 0, stderr);
        Assert.Contains("forest-1", stdout, StringComparison.Ordinal);
        Assert.Contains("FINISHED", stdout, StringComparison.Ordinal);
        Assert.Contains("0.93", stdout, StringComparison.Ordinal);
    }

    /// <summary>With no experiment named, runs of every experiment, newest first (issue 24: it listed the empty Default
    /// experiment and said "no runs" right after the seed trained).</summary>
    [Fact]
    public async Task Ls_WithoutAnExperiment_ListsEveryExperimentsRuns()
    {
        var (_, runs) = await SeedAsync();
        var (exit, stdout, stderr) = await CliAsync("runs", "ls", "--max", "50000", "--json");
        Assert.True(exit == 0, stderr);
        var listed = JsonDocument.Parse(stdout).RootElement.EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_id").GetString()).ToList();
        Assert.True(runs.All(listed.Contains), "every run of the experiment is listed");
        (exit, stdout, stderr) = await CliAsync("runs", "ls", "--max", "50000", "--filter", "params.trees = '300'", "--json");
        Assert.True(exit == 0, stderr);
        listed = JsonDocument.Parse(stdout).RootElement.EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_id").GetString()).ToList();
        Assert.Contains(runs[2], listed);
        Assert.DoesNotContain(runs[0], listed);
        (exit, _, stderr) = await CliAsync("runs", "ls");
        Assert.True(exit == 0, stderr);
    }

    [Fact]
    public async Task Compare_ShowsDifferingParamsAndMetrics_SideBySide()
    {
        var (_, runs) = await SeedAsync();

        var (exit, stdout, stderr) = await CliAsync("runs", "compare", runs[0], runs[2], "--json");
        Assert.True(exit == 0, stderr);
        var compared = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(["trees"], compared.GetProperty("differing_params").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(["100", "300"], compared.GetProperty("params").GetProperty("trees").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(0.93, compared.GetProperty("metrics").GetProperty("auc")[1].GetDouble(), 10);

        (exit, stdout, stderr) = await CliAsync("runs", "compare", runs[0], runs[2]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("param trees", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("param seed", stdout, StringComparison.Ordinal);
        Assert.Contains("params that differ: trees", stdout, StringComparison.Ordinal);
    }

    /// <summary>Usage errors exit 2; what the server refuses (bad filter, unknown run or experiment) exits 1 with its reason.</summary>
    [Theory]
    [InlineData(1, "does not exist", "runs", "ls", "--experiment", "no-such-experiment")]
    [InlineData(1, "invalid search expression", "runs", "ls", "--filter", "metrics.auc > 'high'")]
    [InlineData(1, "OR is not supported", "runs", "ls", "--filter", "metrics.auc > 1 OR metrics.auc < 0")]
    [InlineData(2, "--max", "runs", "ls", "--max", "0")]
    [InlineData(1, "does not exist", "runs", "compare", "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210")]
    [InlineData(2, "Required argument missing", "runs", "compare", "only-one")]
    public async Task BadInput_ExitsNonZeroWithAReason(int code, string reason, params string[] args)
    {
        var (exit, _, stderr) = await CliAsync(args);
        Assert.Equal(code, exit);
        Assert.Contains(reason, stderr, StringComparison.Ordinal);
    }
}
