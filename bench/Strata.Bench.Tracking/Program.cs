using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Strata.Contracts.Tracking;
using Strata.Registry.Storage;
using Strata.ServiceDefaults.Sql;
using Strata.Registry.Tracking;

// Tracking benchmark (bench/tracking.sh drives it):
//   load    --db PATH --runs N: N runs in one experiment through the tracking store (the code behind the MLflow API),
//           each with 50 metrics (m0..m49), 5 params (p0..p4, values v0..v9) and 2 tags; prints the experiment id.
//   measure --url URL --experiment ID: over HTTP, as an MLflow client would,
//           runs/search with a metric + param filter (about 1% of the runs match; a page of 100, MLflow's UI page size),
//           the same ordered by a metric, and log-batch of 1,000 metrics into fresh runs; p50/p95/p99 as JSON on stdout.
var mode = args.FirstOrDefault() ?? throw new ArgumentException("load or measure");
string Arg(string name, string? fallback = null)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"{name} is required");
}

if (mode == "load")
{
    // --db PATH (SQLite) or --postgres CONNECTION-STRING; --parallel N writers (PostgreSQL takes them concurrently).
    var postgres = Arg("--postgres", "");
    await using var store = postgres.Length > 0 ? new SqlTrackingStore(SqlDialect.Postgres(postgres), TimeProvider.System) : SqlTrackingStore.Sqlite(Arg("--db"));
    await store.InitializeAsync(CancellationToken.None);
    var runs = int.Parse(Arg("--runs", "100000"), CultureInfo.InvariantCulture);
    var parallel = int.Parse(Arg("--parallel", "1"), CultureInfo.InvariantCulture);
    var experiment = await store.CreateExperimentAsync($"bench-{Guid.NewGuid():N}"[..14], null, [], DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), CancellationToken.None);
    var clock = Stopwatch.StartNew();
    var loaded = 0;
    await Parallel.ForAsync(0, runs, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, ct) =>
    {
        var random = new Random(7 + i); // each run's values depend only on its index, whatever the parallelism
        var run = await store.CreateRunAsync(experiment, "bench", $"run-{i}", 1_700_000_000_000L + i, [new KeyValue("team", $"t{i % 7}")], ct);
        var metrics = Enumerable.Range(0, 50).Select(m => new Metric($"m{m}", random.NextDouble(), 1_700_000_000_000L + i, 0)).ToList();
        var parameters = Enumerable.Range(0, 5).Select(p => new KeyValue($"p{p}", $"v{random.Next(10)}")).ToList();
        await store.LogBatchAsync(run.Info.RunId, metrics, parameters, [new KeyValue("stage", i % 2 == 0 ? "dev" : "prod")], ct);
        if (Interlocked.Increment(ref loaded) % 10_000 == 0)
        {
            Console.Error.WriteLine($"loaded {loaded:N0} runs in {clock.Elapsed.TotalSeconds:F0} s");
        }
    });
    Console.WriteLine(experiment);
    return 0;
}

using var http = new HttpClient { BaseAddress = new Uri(Arg("--url")), Timeout = TimeSpan.FromMinutes(2) };
// Strata answers nothing without credentials: the key the bench script exported (the admin key of the fresh data directory).
if (Environment.GetEnvironmentVariable("STRATA_API_KEY") is { Length: > 0 } apiKey)
{
    http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
}
var experimentId = Arg("--experiment");
var queries = int.Parse(Arg("--queries", "200"), CultureInfo.InvariantCulture);
var results = new Dictionary<string, object>();

async Task<(double P50, double P95, double P99, double Mean)> TimeAsync(string name, int count, Func<int, Task> call)
{
    for (var i = 0; i < 10; i++)
    {
        await call(-1 - i); // warm-up, not measured
    }
    var times = new List<double>(count);
    for (var i = 0; i < count; i++)
    {
        var start = Stopwatch.GetTimestamp();
        await call(i);
        times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }
    times.Sort();
    double At(double q) => times[Math.Min(times.Count - 1, (int)(times.Count * q))];
    var result = (At(0.5), At(0.95), At(0.99), times.Average());
    Console.Error.WriteLine($"{name}: p50 {result.Item1:F2} ms, p95 {result.Item2:F2} ms, p99 {result.Item3:F2} ms over {count}");
    results[name] = new { p50_ms = result.Item1, p95_ms = result.Item2, p99_ms = result.Item3, mean_ms = result.Item4, count };
    return result;
}

async Task<JsonElement> PostAsync(string path, object body)
{
    using var response = await http.PostAsJsonAsync("api/2.0/mlflow/" + path, body);
    var text = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {text}");
    }
    return JsonDocument.Parse(text).RootElement;
}

var matched = 0;
var thresholds = new[] { "0.9", "0.95", "0.85", "0.92" };
await TimeAsync("runs/search metric+param filter (page of 100)", queries, async i =>
{
    var body = await PostAsync("runs/search", new
    {
        experiment_ids = new[] { experimentId },
        filter = $"metrics.m{Math.Abs(i) % 50} > {thresholds[Math.Abs(i) % 4]} and params.p{Math.Abs(i) % 5} = 'v{Math.Abs(i) % 10}'",
        max_results = 100,
    });
    matched = body.TryGetProperty("runs", out var runs) ? runs.GetArrayLength() : 0;
});
results["matched_last_page"] = matched;
await TimeAsync("runs/search metric+param filter ordered by a metric (page of 100)", queries, async i =>
    await PostAsync("runs/search", new
    {
        experiment_ids = new[] { experimentId },
        filter = $"metrics.m{Math.Abs(i) % 50} > 0.9 and params.p{Math.Abs(i) % 5} = 'v{Math.Abs(i) % 10}'",
        order_by = new[] { $"metrics.m{(Math.Abs(i) + 1) % 50} DESC" },
        max_results = 100,
    }));
var batchRun = string.Empty;
await TimeAsync("runs/log-batch of 1,000 metrics", queries, async i =>
{
    if (i % 20 == 0 || i < 0)
    {
        batchRun = (await PostAsync("runs/create", new { experiment_id = experimentId, run_name = "batch" })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
    }
    await PostAsync("runs/log-batch", new
    {
        run_id = batchRun,
        metrics = Enumerable.Range(0, 1000).Select(m => new { key = $"loss{m % 20}", value = m / 1000.0, timestamp = 1_700_000_000_000L + i, step = (long)(m / 20) + (Math.Max(0, i) * 50) }),
    });
});
Console.WriteLine(JsonSerializer.Serialize(new { experiment = experimentId, queries, results }));
return 0;
