using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Strata.Contracts;
using Strata.Contracts.Security;
using Strata.Testing;

namespace Strata.EndToEnd.Tests;

/// <summary>Metrics as an operator meets them, in each topology: a real Prometheus (Debian's, on loopback) scrapes
/// <c>/metrics</c> with a key that may read metrics and nothing else, and PromQL over real traffic gives the request
/// rate, the error ratio and a p99 from the histogram; the exposition passes <c>promtool check metrics</c>; OpenMetrics
/// exemplars reach Prometheus with the trace ids of the requests. In microservices the gateway's one endpoint federates
/// every process.</summary>
public static partial class ObservabilityScenarioTests
{
    private const string Route = "/api/2.0/mlflow/registered-models/get";
    private const string Count = "http_server_request_duration_seconds_count";

    /// <summary>Runs against <paramref name="up"/>, started with every request traced (exemplars name recorded traces) and
    /// after <see cref="TracingScenarioTests"/> trained a second version (two training runs so far).</summary>
    public static async Task ScrapeAsync(StrataUp up, string topology)
    {
        // A scraper's key reads metrics and nothing else; without a key, nothing.
        using var created = await up.Http.PostAsJsonAsync("/api/security/keys", new NewApiKey("prometheus", ["metrics"]), StrataJson.Options);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = (await created.Content.ReadFromJsonAsync<CreatedApiKey>(StrataJson.Options))!.Key;
        using var scraper = TestKeys.Authorize(new HttpClient { BaseAddress = up.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(30) }, key);
        using (var anonymous = new HttpClient { BaseAddress = up.Http.BaseAddress })
        using (var refused = await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        (await Eventually.ValueAsync(() => scraper.GetAsync(new Uri("/metrics", UriKind.Relative)), r => r.StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10), "the scraper's key accepted")).Dispose();
        // In microservices the registry's process learns the new key at its next key refresh: until then it is unknown there.
        using (var data = await Eventually.ValueAsync(() => scraper.GetAsync(new Uri("/api/registry/models", UriKind.Relative)),
            r => r.StatusCode != HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(10), "the scraper's key known to the registry"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, data.StatusCode);
        }

        // One model to read, one OK and one 404 before Prometheus starts: both series exist from its first scrape, so
        // rate() sees every later request (a series born between scrapes loses what it counted before its first one).
        using (var model = await up.Http.PostAsJsonAsync("/api/2.0/mlflow/registered-models/create", new { name = "observed" }))
        {
            Assert.Equal(HttpStatusCode.OK, model.StatusCode);
        }
        await GetAsync(up.Http, "observed", HttpStatusCode.OK);
        await GetAsync(up.Http, "missing", HttpStatusCode.NotFound);

        var exposition = await scraper.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var (lintExit, lint) = await PromtoolAsync(exposition);
        Assert.True(lintExit == 0, $"promtool check metrics exited {lintExit}:\n{lint}");

        await using var prometheus = await PrometheusServer.StartAsync(up.Http.BaseAddress!, key);
        Assert.NotNull(prometheus);
        // The module's own count (in microservices the gateway also counts the proxied request, under its own route).
        var selector = $"{{http_route=\"{Route}\",strata_process!=\"gateway\"}}";
        await Eventually.ValueAsync(() => prometheus.QueryAsync($"sum({Count}{selector})"), r => r.Count == 1 && r[0].Value == 2,
            TimeSpan.FromSeconds(30), "the warm-up requests scraped");

        // Real traffic: 150 reads of the model, 50 of a model that does not exist.
        for (var i = 0; i < 200; i++)
        {
            await GetAsync(up.Http, i % 4 == 3 ? "missing" : "observed", i % 4 == 3 ? HttpStatusCode.NotFound : HttpStatusCode.OK);
        }
        await Eventually.ValueAsync(() => prometheus.QueryAsync($"sum({Count}{selector})"), r => r.Count == 1 && r[0].Value == 202,
            TimeSpan.FromSeconds(30), "the traffic scraped");
        var errors = await prometheus.QueryAsync($"sum({Count}{{http_route=\"{Route}\",strata_process!=\"gateway\",http_response_status_code=~\"4..|5..\"}})");
        Assert.Equal(51, Assert.Single(errors).Value);

        // The operator's three queries.
        var window = "[1m]";
        var rate = Assert.Single(await prometheus.QueryAsync($"sum(rate({Count}{selector}{window}))")).Value;
        Assert.True(rate > 0, $"request rate {rate}/s");
        var ratio = Assert.Single(await prometheus.QueryAsync(
            $"sum(rate({Count}{{http_route=\"{Route}\",strata_process!=\"gateway\",http_response_status_code=~\"4..|5..\"}}{window})) / sum(rate({Count}{selector}{window}))")).Value;
        Assert.InRange(ratio, 0.2, 0.3);
        var p99 = Assert.Single(await prometheus.QueryAsync(
            $"histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket{selector}{window})))")).Value;
        Assert.True(p99 > 0 && p99 < 1, $"p99 {p99} s");

        // Exemplars link the histogram's buckets to the traces of requests that landed in them.
        var exemplars = await prometheus.ExemplarsAsync($"http_server_request_duration_seconds_bucket{selector}", TimeSpan.FromMinutes(5));
        Assert.Contains(exemplars, e => e.TryGetValue("trace_id", out var id) && TraceId().IsMatch(id));

        // Strata's own families: the training runs, a traffic split (a rollout's steps show as these weights) and scoring.
        using (var policy = await up.Http.PutAsJsonAsync(new Uri("/api/registry/models/seed/traffic", UriKind.Relative),
            new { split = new object[] { new { target = new { alias = "champion" }, weight = 90 }, new { target = new { version = 1 }, weight = 10 } } }))
        {
            Assert.Equal(HttpStatusCode.OK, policy.StatusCode);
        }
        await Eventually.ValueAsync(() => prometheus.QueryAsync("strata_serving_traffic_weight{model=\"seed\",arm=\"v1\"}"), r => r is [{ Value: 10 }],
            TimeSpan.FromSeconds(30), "the split's weights scraped");
        for (var i = 0; i < 20; i++)
        {
            using var predicted = await up.Http.PostAsJsonAsync(new Uri("/predict", UriKind.Relative), new { age = 35, income = 50000 });
            Assert.Equal(HttpStatusCode.OK, predicted.StatusCode);
        }
        await Eventually.ValueAsync(() => prometheus.QueryAsync("sum(strata_serving_predictions_total{model=\"seed\"})"), r => r is [{ Value: >= 20 }],
            TimeSpan.FromSeconds(30), "predictions per model version scraped");
        // The seed's run at first start and this one.
        await Eventually.ValueAsync(() => prometheus.QueryAsync("sum(strata_training_runs_total{status=\"finished\"})"), r => r is [{ Value: 2 }],
            TimeSpan.FromSeconds(30), "both training runs scraped");

        if (topology == "microservices")
        {
            // The gateway federates all nine processes, each sample labelled with the process it came from.
            var processes = await prometheus.QueryAsync("strata_process_up");
            Assert.Equal(9, processes.Count);
            Assert.All(processes, p => Assert.Equal(1, p.Value));
            var proxied = await prometheus.QueryAsync($"sum({Count}{{strata_process=\"gateway\"}})");
            Assert.True(Assert.Single(proxied).Value >= 202, "the gateway's own count of what it proxied");
        }
    }

    private static async Task GetAsync(HttpClient http, string name, HttpStatusCode expected)
    {
        using var response = await http.GetAsync(new Uri($"{Route}?name={name}", UriKind.Relative));
        Assert.Equal(expected, response.StatusCode);
    }

    private static Task<(int Exit, string Output)> PromtoolAsync(string exposition)
    {
        var promtool = PrometheusServer.Promtool();
        Assert.NotNull(promtool);
        return ChildProcess.RunAsync(promtool, ["check", "metrics"], TimeSpan.FromMinutes(1), input: exposition);
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex TraceId();
}
