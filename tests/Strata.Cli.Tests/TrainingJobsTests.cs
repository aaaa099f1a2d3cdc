using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Strata.Cli.Commands;
using Strata.Hosting;
using Strata.Contracts;
using Strata.Contracts.Training;
using Strata.Testing;
using Strata.Training.Jobs;

namespace Strata.Cli.Tests;

/// <summary>Training jobs over HTTP on a seeded monolith: a job goes queued -> running -> succeeded with progress, a log
/// line per stage and the registered version; a queued job is cancelled at once, a finished one cannot be; bad input
/// is a 4xx naming the field and queues nothing.</summary>
public sealed class TrainingJobsTests(MonolithFixture fixture) : IClassFixture<MonolithFixture>
{
    private HttpClient Http => fixture.Http;

    private async Task<TrainingJob> SubmitAsync(object request)
    {
        using var response = await Http.PostAsJsonAsync(new Uri("/api/training/jobs", UriKind.Relative), request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = (await response.Content.ReadFromJsonAsync<TrainingJob>(StrataJson.Options))!;
        Assert.Equal($"/api/training/jobs/{job.Id}", response.Headers.Location?.ToString());
        return job;
    }

    private async Task<TrainingJob> GetAsync(string id) =>
        (await Http.GetFromJsonAsync<TrainingJob>(new Uri($"/api/training/jobs/{id}", UriKind.Relative), StrataJson.Options))!;

    private Task<TrainingJob> FinishedAsync(string id) =>
        Eventually.ValueAsync(() => GetAsync(id), j => TrainingJobStates.IsFinished(j.State), TimeSpan.FromSeconds(60), $"job {id} to end");

    [Fact]
    public async Task Job_RunsToSucceeded_WithProgressLogAndTheRegisteredVersion()
    {
        var job = await SubmitAsync(new { model = "jobs-model", trainer = "lightgbm", trees = 20, alias = (string?)null });
        Assert.Equal(TrainingJobStates.Queued, job.State);

        var done = await FinishedAsync(job.Id);

        Assert.Equal(TrainingJobStates.Succeeded, done.State);
        Assert.Equal(1, done.Progress);
        Assert.NotNull(done.StartedAt);
        Assert.True(done.FinishedAt >= done.StartedAt);
        Assert.Equal("jobs-model", done.Result!.Model);
        Assert.InRange(done.Result.Metrics["auc"], 0.8, 1.0);
        // One line per stage, in order.
        var stages = new[] { "queued", "started", "resolving the dataset", "building the training frame", "training LightGbm(20)", "trained: holdout AUC", "registering", "registered jobs-model v" };
        var at = 0;
        foreach (var line in done.Log)
        {
            if (at < stages.Length && line.Contains(stages[at], StringComparison.Ordinal))
            {
                at++;
            }
        }
        Assert.True(at == stages.Length, $"log missing '{(at < stages.Length ? stages[at] : "")}':\n{string.Join('\n', done.Log)}");
        var versions = await Http.GetFromJsonAsync<JsonElement>(new Uri("/api/registry/models/jobs-model/versions", UriKind.Relative));
        Assert.Contains(versions.EnumerateArray(), v => v.GetProperty("version").GetInt32() == done.Result.Version);

        var listed = await Http.GetFromJsonAsync<List<TrainingJob>>(new Uri("/api/training/jobs?state=succeeded", UriKind.Relative), StrataJson.Options);
        Assert.Contains(listed!, j => j.Id == job.Id);
        Assert.All(listed!, j => Assert.Equal(TrainingJobStates.Succeeded, j.State));

        // A finished job cannot be cancelled, and stays as it was.
        using var cancel = await Http.DeleteAsync(new Uri($"/api/training/jobs/{job.Id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Equal("application/problem+json", cancel.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TrainingJobStates.Succeeded, (await GetAsync(job.Id)).State);
    }

    [Fact]
    public async Task QueuedJob_Cancelled_NeverRuns()
    {
        // One job at a time: the second waits behind the first and is cancelled while queued.
        var first = await SubmitAsync(new { model = "jobs-first", trees = 300, alias = (string?)null });
        var second = await SubmitAsync(new { model = "jobs-second", trees = 5, alias = (string?)null });

        using var response = await Http.DeleteAsync(new Uri($"/api/training/jobs/{second.Id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var cancelled = (await response.Content.ReadFromJsonAsync<TrainingJob>(StrataJson.Options))!;
        Assert.Equal(TrainingJobStates.Cancelled, cancelled.State);

        Assert.Equal(TrainingJobStates.Succeeded, (await FinishedAsync(first.Id)).State);
        var after = await GetAsync(second.Id);
        Assert.Equal(TrainingJobStates.Cancelled, after.State);
        Assert.Null(after.StartedAt);
        using var versions = await Http.GetAsync(new Uri("/api/registry/models/jobs-second/versions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, versions.StatusCode);
    }

    /// <summary>A cancel during the fit interrupts the fit itself: a 2,000-tree forest on the seed data takes seconds,
    /// the job ends cancelled well within one.</summary>
    [Fact]
    public async Task RunningJob_CancelledDuringTheFit_StopsTheFit_AndRegistersNothing()
    {
        var job = await SubmitAsync(new { model = "jobs-cancelled", trees = 2000, alias = (string?)null });
        await Eventually.ValueAsync(() => GetAsync(job.Id), j => j.Log.Any(l => l.Contains("training FastForest(2000)", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the fit to start");
        await Task.Delay(300);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await Http.DeleteAsync(new Uri($"/api/training/jobs/{job.Id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var done = await FinishedAsync(job.Id);
        clock.Stop();
        Assert.Equal(TrainingJobStates.Cancelled, done.State);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"cancelled {clock.Elapsed.TotalMilliseconds:F0} ms after the DELETE:\n{string.Join('\n', done.Log)}");
        Assert.DoesNotContain(done.Log, l => l.Contains("trained:", StringComparison.Ordinal));
        Assert.Null(done.Result);
        using var versions = await Http.GetAsync(new Uri("/api/registry/models/jobs-cancelled/versions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, versions.StatusCode);
    }

    public static TheoryData<string, string, string?, HttpStatusCode, string?> BadRequests => new()
    {
        { "POST", "/api/training/jobs", "{nope", HttpStatusCode.BadRequest, "body" },
        { "POST", "/api/training/jobs", "null", HttpStatusCode.BadRequest, "body" },
        { "POST", "/api/training/jobs", """{"trainer": "svm"}""", HttpStatusCode.BadRequest, "trainer" },
        { "POST", "/api/training/jobs", """{"trees": 0}""", HttpStatusCode.BadRequest, "trees" },
        { "POST", "/api/training/jobs", """{"holdout_fraction": 1.5}""", HttpStatusCode.BadRequest, "holdout_fraction" },
        { "POST", "/api/training/jobs", """{"model": "../x"}""", HttpStatusCode.BadRequest, "model" },
        { "GET", "/api/training/jobs?state=done", null, HttpStatusCode.BadRequest, "state" },
        { "GET", "/api/training/jobs?limit=0", null, HttpStatusCode.BadRequest, "limit" },
        { "GET", "/api/training/jobs?limit=many", null, HttpStatusCode.BadRequest, "limit" },
        { "GET", "/api/training/jobs/job-nope", null, HttpStatusCode.NotFound, null },
        { "DELETE", "/api/training/jobs/job-nope", null, HttpStatusCode.NotFound, null },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInput_Is4xxNamingTheField_AndQueuesNothing(string method, string path, string? body, HttpStatusCode status, string? field)
    {
        var before = (await Http.GetFromJsonAsync<List<TrainingJob>>(new Uri("/api/training/jobs?limit=1000", UriKind.Relative), StrataJson.Options))!.Count;
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }
        using var response = await Http.SendAsync(request);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (field is not null)
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(field, problem.GetProperty("field").GetString());
        }
        var after = (await Http.GetFromJsonAsync<List<TrainingJob>>(new Uri("/api/training/jobs?limit=1000", UriKind.Relative), StrataJson.Options))!.Count;
        Assert.Equal(before, after);
    }
}

/// <summary>A restart never leaves a job shown as running: a job the previous process left running is marked failed
/// (interrupted), and one it left queued runs.</summary>
public sealed class TrainingJobsRecoveryTests
{
    [Fact]
    public async Task Restart_MarksInterruptedJobsFailed_AndRunsTheQueuedOnes()
    {
        using var folder = new TempFolder();
        var now = DateTimeOffset.UtcNow;
        using (var store = new TrainingJobStore(Path.Combine(folder.Path, ModuleNames.Training, "jobs.db")))
        {
            store.Add(new TrainingJob("job-was-running", TrainingJobStates.Queued, 0, null, new TrainingRequest(), now, null, null, null, null, []));
            store.Update(new TrainingJob("job-was-running", TrainingJobStates.Running, 0.2, "training", new TrainingRequest(), now, now, null, null, null, ["started"]));
            store.Add(new TrainingJob("job-was-queued", TrainingJobStates.Queued, 0, null, new TrainingRequest { Dataset = "none-such" }, now, null, null, null, null, []));
        }

        var app = StrataHost.Build(HostSettings.Monolith(0, folder.Path));
        await app.StartAsync();
        try
        {
            using var http = TestKeys.Authorize(new HttpClient { BaseAddress = HostRunner.Address(app) }, TestKeys.Create(app.Services));
            var interrupted = (await http.GetFromJsonAsync<TrainingJob>(new Uri("/api/training/jobs/job-was-running", UriKind.Relative), StrataJson.Options))!;
            Assert.Equal(TrainingJobStates.Failed, interrupted.State);
            Assert.Contains("interrupted", interrupted.Error, StringComparison.Ordinal);
            Assert.NotNull(interrupted.FinishedAt);
            // The queued one ran (and failed on its missing dataset: it did not stay queued).
            var queued = await Eventually.ValueAsync(
                async () => (await http.GetFromJsonAsync<TrainingJob>(new Uri("/api/training/jobs/job-was-queued", UriKind.Relative), StrataJson.Options))!,
                j => TrainingJobStates.IsFinished(j.State), TimeSpan.FromSeconds(30), "the queued job to run");
            Assert.Equal(TrainingJobStates.Failed, queued.State);
            Assert.Contains("none-such", queued.Error, StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
