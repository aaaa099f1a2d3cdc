// The in-process side of bench/serving.sh: loads the model a running Strata serves (its champion's artifact and feature
// view, fetched over HTTP) into this process and times the model's own work, so the script can subtract it from the
// latency a client sees. Prints one JSON object:
//   score_p50_us / score_p99_us: one row, request inputs -> view features -> forest -> probability (what infer does);
//   infer_rows_per_second_{1,32,1024}: ServableModel.Infer on bound tensors of that many rows (no HTTP, no JSON).
// Usage: serving-bench <server-url> [model] [alias]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Features;
using Strata.Contracts.Registry;
using Strata.Serving.Models;

var server = new Uri(args.Length > 0 ? args[0] : "http://127.0.0.1:8080/");
var modelName = args.Length > 1 ? args[1] : "seed";
var alias = args.Length > 2 ? args[2] : "champion";
using var http = new HttpClient { BaseAddress = server };
// Strata answers nothing without credentials: the key the bench script exported (the admin key of the fresh data directory).
if (Environment.GetEnvironmentVariable("STRATA_API_KEY") is { Length: > 0 } apiKey)
{
    http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
}
var registry = new HttpRegistryClient(http);
var features = new HttpFeaturesClient(http);
var version = await registry.GetVersionByAliasAsync(modelName, alias) ?? throw new InvalidOperationException($"{modelName}@{alias} not found");
var artifact = await registry.GetArtifactAsync(version.ArtifactSha256);
var view = await features.GetViewAsync(version.FeatureView!) ?? throw new InvalidOperationException("no view");
var model = MlNetModel.Load(version, artifact, view, DateTimeOffset.UtcNow);
double[] row = [35, 50000];

// Warm-up, then 200,000 timed single-row scorings.
for (var i = 0; i < 20_000; i++)
{
    model.Score(model.Features.Compute(row));
}
const int N = 200_000;
var ticks = new long[N];
for (var i = 0; i < N; i++)
{
    var t = Stopwatch.GetTimestamp();
    model.Score(model.Features.Compute(row));
    ticks[i] = Stopwatch.GetTimestamp() - t;
}
Array.Sort(ticks);
double Us(long t) => t * 1_000_000.0 / Stopwatch.Frequency;

var result = new Dictionary<string, object>
{
    ["model"] = $"{version.Model} v{version.Version}",
    ["trees"] = version.Params.TryGetValue("trees", out var trees) ? trees : "?",
    ["score_p50_us"] = Math.Round(Us(ticks[N / 2]), 2),
    ["score_p99_us"] = Math.Round(Us(ticks[N * 99 / 100]), 2),
};
foreach (var rows in new[] { 1, 32, 1024 })
{
    Tensor[] inputs = [.. model.Inputs.Select((spec, i) => new Tensor(spec.Name, TensorDatatype.Fp64, [rows],
        Enumerable.Range(0, rows).Select(r => i == 0 ? 20.0 + (r % 50) : 10_000.0 + (r * 37)).ToArray()))];
    var bound = model.Bind(inputs);
    var started = Stopwatch.GetTimestamp();
    var scored = 0L;
    while (Stopwatch.GetElapsedTime(started).TotalSeconds < 2)
    {
        model.Infer(bound, []);
        scored += rows;
    }
    result[string.Create(CultureInfo.InvariantCulture, $"infer_rows_per_second_{rows}")] = Math.Round(scored / Stopwatch.GetElapsedTime(started).TotalSeconds);
}
Console.WriteLine(JsonSerializer.Serialize(result, StrataJson.Options));
