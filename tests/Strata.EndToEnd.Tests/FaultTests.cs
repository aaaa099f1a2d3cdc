using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Strata.Testing;

namespace Strata.EndToEnd.Tests;

/// <summary>kill -9 in the middle of writes (issue 24): ingests, feature pushes and event publishes run side by side
/// while a 2,000-tree training runs; once the training's run is RUNNING and each writer has had writes acknowledged (5
/// ingests, 5 pushes, 500 events), the process is killed; after a restart on the same data directory every write that
/// was acknowledged is there (a dataset version, an online feature value, an event in its topic), the version a
/// finished training registered is there, and the run the kill interrupted is closed as FAILED, not left
/// RUNNING.</summary>
public sealed class FaultTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Topic = "fault.burst";

    [Fact]
    public async Task KillNine_DuringWrites_EveryAcknowledgedWriteSurvives()
    {
        using var folder = new TempFolder();
        var up = await StrataUp.StartAsync("monolith", folder.Path);
        try
        {
            using (var finished = await up.Http.PostAsJsonAsync("/api/training/train", new { model = "fault-done", trees = 5, alias = (string?)null }))
            {
                Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
            }
            using var broker = TestKeys.Authorize(new HttpClient { BaseAddress = up.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(30) }, TestKeys.ServiceToken(folder.Path));
            var datasets = new ConcurrentDictionary<string, string>();
            var pushes = new ConcurrentDictionary<long, double>();
            var events = new ConcurrentBag<string>();
            using var stop = new CancellationTokenSource();
            var training = up.Http.PostAsJsonAsync("/api/training/train", new { model = "fault-interrupted", experiment = "fault-interrupted", trees = 2000, alias = (string?)null });
            var writers = new[]
            {
                Loop(async i =>
                {
                    using var answer = await up.Http.PostAsync(new Uri($"/api/data/datasets/fault-{i}", UriKind.Relative),
                        new StringContent($"a,b\n{i},{i * 2}\n{i + 1},{i * 3}\n", Encoding.UTF8, "text/csv"));
                    if (answer.StatusCode == HttpStatusCode.Created || answer.StatusCode == HttpStatusCode.OK)
                    {
                        datasets[$"fault-{i}"] = (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
                    }
                }, stop.Token),
                Loop(async i =>
                {
                    var user = 1_000_000L + i;
                    using var answer = await up.Http.PostAsJsonAsync("/api/features/push", new
                    {
                        push_source_name = "user_profiles",
                        df = new Dictionary<string, object[]>
                        {
                            ["user_id"] = [user], ["event_timestamp"] = [DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O", CultureInfo.InvariantCulture)],
                            ["age"] = [20.0 + (i % 50)], ["income"] = [1000.0 * i],
                        },
                        to = "online_and_offline",
                    });
                    if (answer.IsSuccessStatusCode)
                    {
                        pushes[user] = 20.0 + (i % 50);
                    }
                }, stop.Token),
                Loop(async i =>
                {
                    var ids = Enumerable.Range(0, 20).Select(j => $"fault-{i}-{j}").ToList();
                    using var answer = await broker.PostAsJsonAsync($"/api/events/topics/{Topic}/messages", new
                    {
                        messages = ids.Select(id => new
                        {
                            id, key = id, target_group = (string?)null,
                            @event = new { specversion = "1.0", id, type = "com.example.fault", source = "/fault", datacontenttype = "application/json", data = new { n = i } },
                        }),
                    });
                    if (answer.IsSuccessStatusCode)
                    {
                        foreach (var id in ids)
                        {
                            events.Add(id);
                        }
                    }
                }, stop.Token),
            };
            // Sentinels, not a sleep: the kill comes once the training's run is RUNNING and every writer has been acknowledged.
            await Eventually.ValueAsync(() => RunStatusesAsync(up.Http, "fault-interrupted"), s => s.Contains("RUNNING"), TimeSpan.FromSeconds(60), "the training running");
            await Eventually.ValueAsync(() => Task.FromResult(datasets.Count >= 5 && pushes.Count >= 5 && events.Count >= 500), acked => acked, TimeSpan.FromSeconds(60),
                "writes of each kind acknowledged");
            Assert.False(training.IsCompleted, "the training ended before the kill");
            up.Kill();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
            await Assert.ThrowsAnyAsync<Exception>(() => training);
            await up.DisposeAsync();
            Assert.True(!datasets.IsEmpty && !pushes.IsEmpty && !events.IsEmpty, $"acknowledged: {datasets.Count} ingests, {pushes.Count} pushes, {events.Count} events");

            output.WriteLine($"acknowledged before the kill: {datasets.Count} ingests, {pushes.Count} pushes, {events.Count} events");
            up = await StrataUp.StartAsync("monolith", folder.Path);
            using var brokerAgain = TestKeys.Authorize(new HttpClient { BaseAddress = up.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(30) }, TestKeys.ServiceToken(folder.Path));
            foreach (var (name, id) in datasets)
            {
                using var version = await up.Http.GetAsync(new Uri($"/api/data/datasets/{id}", UriKind.Relative));
                Assert.True(version.StatusCode == HttpStatusCode.OK, $"{name} ({id}) acknowledged, then lost: {(int)version.StatusCode}");
            }
            var users = pushes.Keys.Order().ToList();
            var online = await (await up.Http.PostAsJsonAsync("/api/features/get-online-features",
                new { entities = new { user_id = users }, features = new[] { "user_profile:age" } })).Content.ReadFromJsonAsync<JsonElement>();
            var ages = online.GetProperty("results")[1].GetProperty("values").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN).ToList();
            Assert.Equal(users.Select(u => pushes[u]), ages);

            using (var join = await brokerAgain.PostAsJsonAsync($"/api/events/topics/{Topic}/groups/check/join", new { consumer = "check", max = 1, wait_ms = 0, from_start = true }))
            {
                Assert.True(join.IsSuccessStatusCode, await join.Content.ReadAsStringAsync());
            }
            var stored = new HashSet<string>();
            while (true)
            {
                var batch = await (await brokerAgain.PostAsJsonAsync($"/api/events/topics/{Topic}/groups/check/fetch", new { consumer = "check", max = 1000, wait_ms = 0, from_start = true }))
                    .Content.ReadFromJsonAsync<JsonElement>();
                var deliveries = batch.GetProperty("deliveries").EnumerateArray().ToList();
                if (deliveries.Count == 0)
                {
                    break;
                }
                stored.UnionWith(deliveries.Select(d => d.GetProperty("id").GetString()!));
                using var ack = await brokerAgain.PostAsJsonAsync($"/api/events/topics/{Topic}/groups/check/ack",
                    new { consumer = "check", sequences = deliveries.Select(d => d.GetProperty("sequence").GetInt64()) });
            }
            var lost = events.Where(id => !stored.Contains(id)).ToList();
            Assert.True(lost.Count == 0, $"{lost.Count} of {events.Count} acknowledged events lost: {string.Join(", ", lost.Take(5))}");

            using (var version = await up.Http.GetAsync(new Uri("/api/registry/models/fault-done/versions/1", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.OK, version.StatusCode);
            }
            await Eventually.ValueAsync(() => RunStatusesAsync(up.Http, "fault-interrupted"), statuses => statuses.Count > 0 && statuses.All(s => s == "FAILED"),
                TimeSpan.FromSeconds(20), "the interrupted run closed as FAILED");
        }
        finally
        {
            await up.DisposeAsync();
        }
    }

    private static async Task<List<string?>> RunStatusesAsync(HttpClient http, string experiment)
    {
        using var search = await http.PostAsJsonAsync("/api/2.0/mlflow/runs/search", new { experiment_ids = new[] { await ExperimentIdAsync(http, experiment) } });
        var runs = (await search.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("runs", out var r) ? r.EnumerateArray().ToList() : [];
        return [.. runs.Select(x => x.GetProperty("info").GetProperty("status").GetString())];
    }

    private static async Task<string> ExperimentIdAsync(HttpClient http, string name)
    {
        using var answer = await http.GetAsync(new Uri($"/api/2.0/mlflow/experiments/get-by-name?experiment_name={name}", UriKind.Relative));
        return answer.IsSuccessStatusCode ? (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("experiment").GetProperty("experiment_id").GetString()! : "none";
    }

    /// <summary>Calls <paramref name="write"/> with 0, 1, 2, ... until cancelled or the server is gone.</summary>
    private static Task Loop(Func<int, Task> write, CancellationToken stop) => Task.Run(async () =>
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            try
            {
                await write(i);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                return; // killed: what was acknowledged before is what counts
            }
        }
    }, CancellationToken.None);
}
