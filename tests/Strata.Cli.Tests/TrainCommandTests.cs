using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Training;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary><c>strata train</c> run as the real executable against a seeded monolith: it submits a job, follows it to
/// the end and prints the result (table or <c>--json</c>); usage errors exit 2 and queue nothing, server refusals and
/// failed jobs exit 1.</summary>
public sealed class TrainCommandTests(MonolithFixture fixture) : IClassFixture<MonolithFixture>
{
    private string Url => fixture.Http.BaseAddress!.ToString();

    private async Task<(int Exit, string Stdout, string Stderr)> CliAsync(params string[] args) =>
        await StrataExecutable.RunAsync(TimeSpan.FromSeconds(120), fixture.CliEnvironment, ["train", .. args, "--url", Url]);

    private async Task<int> JobCountAsync() =>
        (await fixture.Http.GetFromJsonAsync<List<TrainingJob>>(new Uri("/api/training/jobs?limit=1000", UriKind.Relative), StrataJson.Options))!.Count;

    [Fact]
    public async Task Train_Json_FollowsTheJobToTheRegisteredVersion()
    {
        var (exit, stdout, stderr) = await CliAsync("--model", "cli-trained", "--trainer", "fast_tree", "--trees", "10", "--alias", "", "--json");

        Assert.True(exit == 0, stderr);
        var job = JsonSerializer.Deserialize<TrainingJob>(stdout, StrataJson.Options)!;
        Assert.Equal(TrainingJobStates.Succeeded, job.State);
        Assert.Equal(("cli-trained", (string?)null), (job.Result!.Model, job.Result.Alias));
        Assert.Equal(Trainer.FastTree, job.Request.Trainer);
        using var version = await fixture.Http.GetAsync(new Uri($"/api/registry/models/cli-trained/versions/{job.Result.Version}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, version.StatusCode);
    }

    [Fact]
    public async Task Train_Table_ShowsStateMetricsAndVersion()
    {
        var (exit, stdout, stderr) = await CliAsync("--model", "cli-table", "--trees", "5", "--alias", "", "--folds", "2");

        Assert.True(exit == 0, stderr);
        Assert.Contains("succeeded", stdout, StringComparison.Ordinal);
        Assert.Contains("cli-table v1", stdout, StringComparison.Ordinal);
        Assert.Contains("auc", stdout, StringComparison.Ordinal);
        Assert.Contains("cv_auc_mean", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_Task_IsSentAndTrained_AndATrainerThatDoesNotFitItIsRefused()
    {
        var (exit, stdout, stderr) = await CliAsync("--model", "cli-multiclass", "--task", "multiclass_classification", "--trainer", "lightgbm", "--trees", "5", "--alias", "", "--json");
        Assert.True(exit == 0, stderr);
        var job = JsonSerializer.Deserialize<TrainingJob>(stdout, StrataJson.Options)!;
        Assert.Equal((TrainingJobStates.Succeeded, TrainingTask.MulticlassClassification), (job.State, job.Request.Task));
        Assert.True(job.Result!.Metrics.ContainsKey("macro_accuracy"));

        var before = await JobCountAsync();
        (exit, _, stderr) = await CliAsync("--model", "cli-regression", "--task", "regression", "--trainer", "logistic_regression");
        Assert.True(exit == 1, $"exit {exit}: {stderr}");
        Assert.Contains("trainer", stderr, StringComparison.Ordinal);
        Assert.Equal(before, await JobCountAsync());
    }

    [Fact]
    public async Task Train_Categorical_IsSentAndEncoded()
    {
        var (exit, stdout, stderr) = await CliAsync("--model", "cli-categorical", "--trainer", "logistic_regression", "--categorical", "age", "--alias", "", "--json");
        Assert.True(exit == 0, stderr);
        var job = JsonSerializer.Deserialize<TrainingJob>(stdout, StrataJson.Options)!;
        Assert.Equal((TrainingJobStates.Succeeded, "age"), (job.State, string.Join(',', job.Request.Categorical!)));
        var version = (await fixture.Http.GetFromJsonAsync<Strata.Contracts.Registry.ModelVersion>(
            new Uri($"/api/registry/models/cli-categorical/versions/{job.Result!.Version}", UriKind.Relative), StrataJson.Options))!;
        Assert.Equal("[\"age\"]", version.Params["categorical"]);

        var before = await JobCountAsync();
        (exit, _, stderr) = await CliAsync("--model", "cli-categorical", "--categorical", "age,age");
        Assert.True(exit == 1, $"exit {exit}: {stderr}");
        Assert.Contains("categorical", stderr, StringComparison.Ordinal);
        Assert.Equal(before, await JobCountAsync());
    }

    [Fact]
    public async Task Train_NoWait_SubmitsAndReturnsTheQueuedJob()
    {
        var (exit, stdout, stderr) = await CliAsync("--model", "cli-nowait", "--trees", "5", "--alias", "", "--no-wait", "--json");

        Assert.True(exit == 0, stderr);
        var job = JsonSerializer.Deserialize<TrainingJob>(stdout, StrataJson.Options)!;
        Assert.Equal(TrainingJobStates.Queued, job.State);
        await Eventually.ValueAsync(
            async () => (await fixture.Http.GetFromJsonAsync<TrainingJob>(new Uri($"/api/training/jobs/{job.Id}", UriKind.Relative), StrataJson.Options))!,
            j => j.State == TrainingJobStates.Succeeded, TimeSpan.FromSeconds(60), "the submitted job");
    }

    [Fact]
    public async Task Train_JobFails_ExitsOneWithTheError()
    {
        var (exit, stdout, _) = await CliAsync("--dataset", "none-such", "--model", "cli-failed", "--json");

        Assert.Equal(1, exit);
        var job = JsonSerializer.Deserialize<TrainingJob>(stdout, StrataJson.Options)!;
        Assert.Equal(TrainingJobStates.Failed, job.State);
        Assert.Contains("none-such", job.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, "--trainer", "svm")]
    [InlineData(2, "--task", "clustering")]
    [InlineData(2, "--trees", "0")]
    [InlineData(2, "--holdout", "1")]
    [InlineData(2, "--folds", "1")]
    [InlineData(2, "--url", "ftp://x")]
    [InlineData(1, "--model", "../x")]
    [InlineData(1, "--alias", "latest")]
    [InlineData(1, "--threshold", "1")]
    public async Task Train_BadInput_ExitsNonZero_AndQueuesNothing(int expected, string option, string value)
    {
        var before = await JobCountAsync();
        var (exit, _, stderr) = option == "--url"
            ? await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), "train", option, value)
            : await CliAsync(option, value);

        Assert.True(exit == expected, $"exit {exit}: {stderr}");
        Assert.NotEmpty(stderr);
        Assert.Equal(before, await JobCountAsync());
    }
}
