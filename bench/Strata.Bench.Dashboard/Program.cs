using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

// Dashboard page-load benchmark (bench/dashboard.sh drives it):
//   versions --url URL --key KEY --model M --count N: registers N versions of M (the seed's v1 artifact and lineage).
//   measure  --url URL --key KEY --model M --experiment ID --loads N: signs in with chromium (Debian's /usr/bin/chromium,
//            driven by Playwright) and loads each page N times; per page the browser's navigation timing (response end:
//            the server's answer received; load event end: parsed, styled, scripts run, charts drawn) and, as the peer,
//            the time of the API call that returns the same data as JSON (HttpClient). p50/p95 as JSON on stdout.
var mode = args.FirstOrDefault() ?? throw new ArgumentException("versions or measure");
string Arg(string name, string? fallback = null)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"{name} is required");
}

var url = new Uri(Arg("--url"));
var key = Arg("--key");
var model = Arg("--model");
using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(2) };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

if (mode == "versions")
{
    var seed = await http.GetFromJsonAsync<JsonElement>("/api/registry/models/seed/versions/1");
    var count = int.Parse(Arg("--count", "1000"), CultureInfo.InvariantCulture);
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
    {
        using var created = await http.PostAsJsonAsync($"/api/registry/models/{model}/versions", new
        {
            artifact_sha256 = seed.GetProperty("artifact_sha256").GetString(),
            format = seed.GetProperty("format").GetString(),
            metrics = new Dictionary<string, double> { ["auc"] = 0.8 + (i % 100 / 1000.0), ["accuracy"] = 0.9, ["log_loss"] = 0.4 },
            @params = new Dictionary<string, string> { ["trees"] = (50 + (i % 50)).ToString(CultureInfo.InvariantCulture) },
            dataset_version = seed.GetProperty("dataset_version").GetString(),
            feature_view = seed.GetProperty("feature_view").GetString(),
            feature_view_version = seed.GetProperty("feature_view_version").GetString(),
            feature_names = seed.GetProperty("feature_names"),
        });
        created.EnsureSuccessStatusCode();
    }
    (await http.PutAsJsonAsync($"/api/registry/models/{model}/aliases/champion", new { version = count })).EnsureSuccessStatusCode();
    Console.Error.WriteLine($"registered {count} versions of {model} in {clock.Elapsed.TotalSeconds:F1} s");
    return 0;
}

var loads = int.Parse(Arg("--loads", "20"), CultureInfo.InvariantCulture);
var experiment = Arg("--experiment");
using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = "/usr/bin/chromium",
    Headless = true,
    Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = url.ToString(), ViewportSize = new ViewportSize { Width = 1360, Height = 1000 } });
var page = await context.NewPageAsync();
await page.GotoAsync("/ui/sign-in");
await page.FillAsync("#key", key);
await page.ClickAsync("button[type=submit]");
await page.WaitForURLAsync("**/ui");
var runId = (await (await http.PostAsJsonAsync("/api/2.0/mlflow/runs/search", new { experiment_ids = new[] { experiment }, max_results = 1 }))
    .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runs")[0].GetProperty("info").GetProperty("run_id").GetString();
var filter = "metrics.m0 > 0.99 and params.p0 = 'v3'";
(string Name, string Page, Func<Task> Api)[] pages =
[
    ("overview", "/ui", () => Get("/api/registry/models")),
    ($"models (2 models)", "/ui/models", () => Get("/api/registry/models")),
    ($"model with {Arg("--count", "1000")} versions", $"/ui/models/{model}", () => Get($"/api/registry/models/{model}/versions")),
    ("runs, newest 100 of all", "/ui/runs", () => Post("/api/2.0/mlflow/runs/search", new { experiment_ids = new[] { "0", experiment }, max_results = 100, order_by = new[] { "attributes.start_time DESC" } })),
    ("runs, filtered (metric + param)", $"/ui/runs?experiment={experiment}&filter={Uri.EscapeDataString(filter)}",
        () => Post("/api/2.0/mlflow/runs/search", new { experiment_ids = new[] { experiment }, max_results = 100, filter, order_by = new[] { "attributes.start_time DESC" } })),
    ("one run (50 metrics)", $"/ui/runs/{runId}", () => Get($"/api/2.0/mlflow/runs/get?run_id={runId}")),
    ("features", "/ui/features", () => Get("/api/features/views")),
];
var results = new List<object>();
foreach (var (name, path, api) in pages)
{
    var (response, load, apiMs, bytes) = (new List<double>(), new List<double>(), new List<double>(), 0L);
    for (var i = 0; i < loads + 2; i++)
    {
        var answer = await page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        if (answer is null || answer.Status != 200)
        {
            throw new InvalidOperationException($"{path} answered {answer?.Status}");
        }
        var timing = await page.EvaluateAsync<JsonElement>("() => { const n = performance.getEntriesByType('navigation')[0]; return { response: n.responseEnd - n.startTime, load: n.loadEventEnd - n.startTime, bytes: n.encodedBodySize }; }");
        var start = Stopwatch.GetTimestamp();
        await api();
        var apiElapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (i < 2)
        {
            continue; // warm-up
        }
        response.Add(timing.GetProperty("response").GetDouble());
        load.Add(timing.GetProperty("load").GetDouble());
        apiMs.Add(apiElapsed);
        bytes = timing.GetProperty("bytes").GetInt64();
    }
    results.Add(new { name, path, loads, html_bytes = bytes, response_p50_ms = Q(response, 0.5), response_p95_ms = Q(response, 0.95), load_p50_ms = Q(load, 0.5),
        load_p95_ms = Q(load, 0.95), api_p50_ms = Q(apiMs, 0.5), api_p95_ms = Q(apiMs, 0.95) });
    Console.Error.WriteLine($"{name}: load p50 {Q(load, 0.5):F1} ms");
}
Console.WriteLine(JsonSerializer.Serialize(results));
return 0;

async Task Get(string path) => (await http.GetAsync(path)).EnsureSuccessStatusCode().Dispose();

async Task Post(string path, object body) => (await http.PostAsJsonAsync(path, body)).EnsureSuccessStatusCode().Dispose();

static double Q(List<double> values, double q)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
}
