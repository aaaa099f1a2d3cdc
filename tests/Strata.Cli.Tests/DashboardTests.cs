using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Strata.Contracts.Registry;
using Strata.Contracts.Security;
using Strata.Dashboard;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>The dashboard over HTTP as a browser speaks it (cookies, forms, anti-forgery tokens, HTML): sign-in and its
/// refusals, pages showing what the API returns, actions allowed and refused by the same table as the API, and bad
/// input answered with 4xx pages. The same pages in a real browser: the end-to-end dashboard scenario.</summary>
public sealed partial class DashboardTests(MonolithFixture fixture) : IClassFixture<MonolithFixture>
{
    [Fact]
    public async Task SignedIn_PagesShowWhatTheApiReturns()
    {
        using var browser = await Browser.SignInAsync(fixture, fixture.ApiKey);

        var models = await fixture.Http.GetFromJsonAsync<JsonElement>("/api/registry/models");
        var page = await browser.PageAsync("/ui/models");
        Assert.All(models.EnumerateArray().Select(m => m.GetProperty("name").GetString()!), name => Assert.Contains($">{name}</a>", page, StringComparison.Ordinal));

        var versions = await fixture.Http.GetFromJsonAsync<JsonElement>("/api/registry/models/seed/versions");
        page = await browser.PageAsync("/ui/models/seed");
        Assert.All(versions.EnumerateArray().Select(v => v.GetProperty("version").GetInt32()), v => Assert.Contains($"data-version=\"{v}\"", page, StringComparison.Ordinal));
        Assert.Contains("data-testid=\"alias-champion\"", page, StringComparison.Ordinal);
        // Serving's model: what it loaded and the arm that answered (no policy: the default arm).
        Assert.Contains("data-testid=\"arms\"", page, StringComparison.Ordinal);

        using var search = await fixture.Http.PostAsJsonAsync("/api/2.0/mlflow/runs/search", new { experiment_ids = new[] { "0", "1", "2", "3" }, max_results = 100 });
        var runs = (await search.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runs").EnumerateArray().ToList();
        Assert.NotEmpty(runs);
        page = await browser.PageAsync("/ui/runs");
        Assert.All(runs, r => Assert.Contains(r.GetProperty("info").GetProperty("run_id").GetString()!, page, StringComparison.Ordinal));
        var run = runs[0].GetProperty("info").GetProperty("run_id").GetString()!;
        page = await browser.PageAsync($"/ui/runs/{run}");
        Assert.Contains(run, page, StringComparison.Ordinal);
        page = await browser.PageAsync($"/ui/runs/compare?ids={run}");
        Assert.Contains("data-testid=\"compare\"", page, StringComparison.Ordinal);

        var views = await fixture.Http.GetFromJsonAsync<JsonElement>("/api/features/views");
        page = await browser.PageAsync("/ui/features");
        Assert.All(views.EnumerateArray().Select(v => v.GetProperty("name").GetString()!), name => Assert.Contains($"data-view=\"{name}\"", page, StringComparison.Ordinal));

        var status = await fixture.Http.GetFromJsonAsync<JsonElement>("/api/serving/status");
        Assert.Contains($"seed</a>@{status.GetProperty("alias").GetString()} = v{status.GetProperty("version").GetInt32()}",
            Regex.Replace(WebUtility.HtmlDecode(await browser.PageAsync("/ui")), @"\s+", " "), StringComparison.Ordinal);
        foreach (var path in new[] { "/ui", "/ui/events", "/ui/monitoring", "/ui/monitoring?model=seed&window=1h" })
        {
            page = await browser.PageAsync(path);
            Assert.Contains("<h1>", page, StringComparison.Ordinal);
        }
        // Every page carries the policy that keeps scripts and styles to this origin.
        using var overview = await browser.Http.GetAsync(new Uri("/ui", UriKind.Relative));
        Assert.Contains("script-src 'self'", overview.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.True(overview.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task WithoutSession_BrowsersAreSentToSignIn_ScriptsGetA401_AndTheCookieOpensNoApiRoute()
    {
        using var anonymous = Browser.Create(fixture);
        using var redirected = await anonymous.Http.GetAsync(new Uri("/ui/models/seed?x=1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, redirected.StatusCode);
        Assert.Equal("/ui/sign-in?next=%2Fui%2Fmodels%2Fseed%3Fx%3D1", redirected.Headers.Location?.ToString());

        using var script = new HttpClient { BaseAddress = fixture.Http.BaseAddress };
        using var refused = await script.GetAsync(new Uri("/ui", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(refused.Headers.WwwAuthenticate);

        using var browser = await Browser.SignInAsync(fixture, fixture.ApiKey);
        using var api = await browser.Http.GetAsync(new Uri("/api/registry/models", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task SignIn_Refusals_SetNoCookie()
    {
        using var browser = Browser.Create(fixture);
        var (status, page) = await browser.SignInFormAsync("strata_nope_notakey", "/ui");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("data-testid=\"sign-in-error\"", page, StringComparison.Ordinal);
        (status, page) = await browser.SignInFormAsync(TestKeys.ServiceToken(fixture.DataDirectory), "/ui");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("service token", page, StringComparison.Ordinal);
        Assert.DoesNotContain(browser.Cookies.GetAllCookies(), c => c.Name == "strata_session");

        // No anti-forgery token: a 400 naming the form, and still no session.
        using var forged = await browser.Http.PostAsync(new Uri(DashboardRoutes.SignIn, UriKind.Relative),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = fixture.ApiKey }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("(field: <code>form</code>)", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(browser.Cookies.GetAllCookies(), c => c.Name == "strata_session");
    }

    [Fact]
    public async Task WithoutAProvider_SignInIsByKeyOnly()
    {
        using var browser = Browser.Create(fixture);
        Assert.DoesNotContain("data-testid=\"oidc\"", await browser.PageAsync(DashboardRoutes.SignIn), StringComparison.Ordinal);
        using var none = await browser.Http.GetAsync(new Uri("/ui/sign-in/oidc?next=/ui", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        // A failure reported back shows a fixed sentence, never text from the query string.
        var page = await browser.PageAsync("/ui/sign-in?failure=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
        Assert.DoesNotContain("alert(1)", page, StringComparison.Ordinal);
    }

    [Fact]
    public void Oidc_WithoutClientCredentials_RefusesToStart()
    {
        using var folder = new TempFolder();
        var e = Assert.Throws<ArgumentException>(() => Strata.Hosting.StrataHost.Build(Strata.Hosting.HostSettings.Monolith(0, folder.Path) with
        {
            Configuration = new Dictionary<string, string?> { ["Strata:Security:Oidc:Authority"] = "https://idp.example" },
        }));
        Assert.Contains("Strata:Security:Oidc:ClientId", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("//evil.example/x", "/ui")]
    [InlineData("https://evil.example/", "/ui")]
    [InlineData("/\\evil.example", "/ui")]
    [InlineData("/api/security/keys", "/ui")]
    [InlineData("/ui/models?x=1", "/ui/models?x=1")]
    public void AfterSignIn_OnlyDashboardPaths(string next, string expected) => Assert.Equal(expected, DashboardEndpoints.SafeNext(next));

    [Fact]
    public async Task Promote_MovesTheAlias_AReaderCannot()
    {
        var model = await TwoVersionsAsync();
        var reader = TestKeys.Create(fixture.App.Services, "reader");
        using (var browser = await Browser.SignInAsync(fixture, reader))
        {
            var page = await browser.PageAsync($"/ui/models/{model}");
            Assert.DoesNotContain("data-testid=\"champion-1\"", page, StringComparison.Ordinal);
            using var refused = await browser.PostFormAsync($"/ui/models/{model}/aliases/champion", page, new() { ["version"] = "1" });
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("manage-models", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(2, (await fixture.Get<IRegistryClient>().GetVersionByAliasAsync(model, "champion"))!.Version);
            using var events = await browser.Http.GetAsync(new Uri("/ui/events", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Forbidden, events.StatusCode);
        }
        using var admin = await Browser.SignInAsync(fixture, fixture.ApiKey);
        var modelPage = await admin.PageAsync($"/ui/models/{model}");
        Assert.Contains("data-testid=\"champion-1\"", modelPage, StringComparison.Ordinal);
        using var moved = await admin.PostFormAsync($"/ui/models/{model}/aliases/champion", modelPage, new() { ["version"] = "1" });
        Assert.Equal(HttpStatusCode.Redirect, moved.StatusCode);
        Assert.Equal(1, (await fixture.Get<IRegistryClient>().GetVersionByAliasAsync(model, "champion"))!.Version);
        Assert.Contains("Done: champion → version 1", WebUtility.HtmlDecode(await admin.PageAsync(moved.Headers.Location!.ToString())), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelPage_ShowsTheNewestHundredVersions_OlderOnTheNextPage()
    {
        var model = await TwoVersionsAsync(101);
        using var browser = await Browser.SignInAsync(fixture, fixture.ApiKey);
        var first = await browser.PageAsync($"/ui/models/{model}");
        Assert.Equal(100, Regex.Count(first, "<tr data-version="));
        Assert.Contains("data-version=\"101\"", first, StringComparison.Ordinal);
        Assert.DoesNotContain("data-version=\"1\"", first, StringComparison.Ordinal);
        Assert.Contains("101 versions", first, StringComparison.Ordinal);
        var second = await browser.PageAsync($"/ui/models/{model}?page=2");
        Assert.Equal(1, Regex.Count(second, "<tr data-version="));
        Assert.Contains("data-version=\"1\"", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RevokingTheKey_EndsItsSession()
    {
        using var created = await fixture.Http.PostAsJsonAsync(SecurityRoutes.Keys, new NewApiKey("dashboard-revoked", ["reader"]));
        var key = (await created.Content.ReadFromJsonAsync<CreatedApiKey>())!;
        using var browser = await Browser.SignInAsync(fixture, key.Key);
        await browser.PageAsync("/ui/models");

        using var revoked = await fixture.Http.DeleteAsync(new Uri($"{SecurityRoutes.Keys}/{key.Info.Id}", UriKind.Relative));
        revoked.EnsureSuccessStatusCode();
        using var after = await browser.Http.GetAsync(new Uri("/ui/models", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith(DashboardRoutes.SignIn, after.Headers.Location?.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/ui/runs/compare", HttpStatusCode.BadRequest, "ids")]
    [InlineData("GET", "/ui/runs/compare?ids=a,b,c,d,e,f,g,h,i,j,k", HttpStatusCode.BadRequest, "ids")]
    [InlineData("GET", "/ui/runs/no-such-run", HttpStatusCode.NotFound, null)]
    [InlineData("GET", "/ui/runs?filter=metrics.auc%20%3E%3E%201", HttpStatusCode.BadRequest, "filter")]
    [InlineData("GET", "/ui/runs?page=bm90LWEtdG9rZW4", HttpStatusCode.BadRequest, "page_token")]
    [InlineData("GET", "/ui/models/no-such-model", HttpStatusCode.NotFound, null)]
    [InlineData("GET", "/ui/models/seed?page=0", HttpStatusCode.BadRequest, "page")]
    [InlineData("GET", "/ui/models/seed?page=99", HttpStatusCode.BadRequest, "page")]
    [InlineData("GET", "/ui/monitoring?window=3y", HttpStatusCode.BadRequest, "window")]
    [InlineData("GET", "/ui/monitoring?model=no-such-model", HttpStatusCode.NotFound, null)]
    [InlineData("POST", "/ui/models/seed/aliases/champion?version=abc", HttpStatusCode.BadRequest, "version")]
    [InlineData("POST", "/ui/models/seed/aliases/champion?version=999", HttpStatusCode.NotFound, null)]
    [InlineData("POST", "/ui/models/seed/aliases/Bad%20Alias?version=1", HttpStatusCode.BadRequest, null)]
    [InlineData("POST", "/ui/rollouts/r1/explode", HttpStatusCode.BadRequest, "action")]
    [InlineData("POST", "/ui/rollouts/no-such-rollout/pause", HttpStatusCode.BadRequest, "id")]
    [InlineData("POST", "/ui/rollouts/00000000000000000000000000000000/pause", HttpStatusCode.NotFound, null)]
    [InlineData("POST", "/ui/events/dead-letters/no-such-letter/redrive", HttpStatusCode.NotFound, null)]
    public async Task BadInput_IsA4xxPage_AndChangesNothing(string method, string path, HttpStatusCode expected, string? field)
    {
        using var browser = await Browser.SignInAsync(fixture, fixture.ApiKey);
        var champion = (await fixture.Get<IRegistryClient>().GetVersionByAliasAsync("seed", "champion"))!.Version;
        HttpResponseMessage answer;
        if (method == "GET")
        {
            answer = await browser.Http.GetAsync(new Uri(path, UriKind.Relative));
        }
        else
        {
            // Form fields from the query: the version to set.
            var (target, query) = (path.Split('?')[0], path.Contains('?', StringComparison.Ordinal) ? path.Split('?')[1] : "");
            var fields = query.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
            answer = await browser.PostFormAsync(target, await browser.PageAsync("/ui/models/seed"), fields);
        }
        using (answer)
        {
            var body = await answer.Content.ReadAsStringAsync();
            Assert.True(expected == answer.StatusCode, $"{method} {path}: {(int)answer.StatusCode} {body[..Math.Min(400, body.Length)]}");
            Assert.Contains("data-testid=\"error\"", body, StringComparison.Ordinal);
            if (field is not null)
            {
                Assert.Contains($"(field: <code>{field}</code>)", body, StringComparison.Ordinal);
            }
        }
        Assert.Equal(champion, (await fixture.Get<IRegistryClient>().GetVersionByAliasAsync("seed", "champion"))!.Version);
    }

    [Fact]
    public async Task Assets_AreServedWithoutSession_UnknownIsA404()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.Http.BaseAddress };
        using var script = await anonymous.GetAsync(new Uri("/ui/assets/uPlot.iife.min.js", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("uPlot", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/assets/uPlot.iife.min.js");
        again.Headers.TryAddWithoutValidation("If-None-Match", script.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.NotModified, (await anonymous.SendAsync(again)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(new Uri("/ui/assets/..%2Fsecrets", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public void OpenRows_AreTheSignInAndWhatItsPageLoads()
    {
        var open = DashboardModule.Table.Where(r => r.Value.HasFlag(Strata.ServiceDefaults.Security.Permissions.Anonymous)).Select(r => r.Key).Order(StringComparer.Ordinal);
        Assert.Equal(["GET /ui/assets/{file}", "GET /ui/sign-in", "GET /ui/sign-in/oidc", "POST /ui/sign-in"], open);
    }

    [Fact]
    public async Task Metrics_AnswersGetOnly()
    {
        using var post = await fixture.Http.PostAsync(new Uri("/metrics", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    /// <summary>A model with <paramref name="count"/> versions of the seed's artifact (two unless said), champion at 2.</summary>
    private async Task<string> TwoVersionsAsync(int count = 2)
    {
        var registry = fixture.Get<IRegistryClient>();
        var model = $"dash-{Guid.NewGuid():N}"[..16];
        var seed = (await registry.GetVersionAsync("seed", 1))!;
        for (var i = 0; i < count; i++)
        {
            await registry.CreateVersionAsync(model, new NewModelVersion(seed.ArtifactSha256, seed.Format, new Dictionary<string, double> { ["auc"] = 0.8 + (i / 100.0) },
                new Dictionary<string, string>(), seed.DatasetVersion, seed.FeatureView, seed.FeatureViewVersion, seed.FeatureNames));
        }
        await registry.SetAliasAsync(model, "champion", 2);
        return model;
    }

    /// <summary>A browser without JavaScript: a cookie jar, HTML accepted, redirects not followed (tests read them).</summary>
    private sealed partial class Browser : IDisposable
    {
        private Browser(HttpClient http, CookieContainer cookies) => (Http, Cookies) = (http, cookies);

        public HttpClient Http { get; }

        public CookieContainer Cookies { get; }

        public static Browser Create(MonolithFixture fixture)
        {
            var cookies = new CookieContainer();
            var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = fixture.Http.BaseAddress };
            http.DefaultRequestHeaders.Accept.ParseAdd("text/html");
            return new Browser(http, cookies);
        }

        public static async Task<Browser> SignInAsync(MonolithFixture fixture, string key)
        {
            var browser = Create(fixture);
            var (status, page) = await browser.SignInFormAsync(key, "/ui");
            Assert.True(status == HttpStatusCode.Redirect, $"sign-in answered {(int)status}: {page}");
            return browser;
        }

        public async Task<(HttpStatusCode Status, string Page)> SignInFormAsync(string key, string next)
        {
            var form = await PageAsync(DashboardRoutes.SignIn);
            using var answer = await PostFormAsync(DashboardRoutes.SignIn, form, new() { ["key"] = key, ["next"] = next });
            return (answer.StatusCode, await answer.Content.ReadAsStringAsync());
        }

        /// <summary>A page that must answer 200.</summary>
        public async Task<string> PageAsync(string path)
        {
            using var answer = await Http.GetAsync(new Uri(path, UriKind.Relative));
            var body = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{path}: {(int)answer.StatusCode} {body[..Math.Min(400, body.Length)]}");
            return body;
        }

        /// <summary>Submits a form to <paramref name="action"/> with the anti-forgery token of <paramref name="page"/>.</summary>
        public Task<HttpResponseMessage> PostFormAsync(string action, string page, Dictionary<string, string> fields)
        {
            var token = TokenPattern().Match(page);
            Assert.True(token.Success, "the page carries no anti-forgery token");
            fields[token.Groups[1].Value] = WebUtility.HtmlDecode(token.Groups[2].Value);
            return Http.PostAsync(new Uri(action, UriKind.Relative), new FormUrlEncodedContent(fields));
        }

        public void Dispose() => Http.Dispose();

        [GeneratedRegex("name=\"(__strata_form)\" value=\"([^\"]+)\"")]
        private static partial Regex TokenPattern();
    }
}

/// <summary>The dashboard's charts read the front door's exposition: its parser and PromQL-style quantile.</summary>
public sealed class DashboardMetricsTests
{
    private const string Exposition = """
        # TYPE http_server_request_duration_seconds histogram
        http_server_request_duration_seconds_bucket{http_route="/predict",http_response_status_code="200",le="0.001",strata_process="gateway"} 50
        http_server_request_duration_seconds_bucket{http_route="/predict",http_response_status_code="200",le="0.01",strata_process="gateway"} 90
        http_server_request_duration_seconds_bucket{http_route="/predict",http_response_status_code="200",le="+Inf",strata_process="gateway"} 100
        http_server_request_duration_seconds_count{http_route="/predict",http_response_status_code="200",strata_process="gateway"} 100
        http_server_request_duration_seconds_count{http_route="/predict",http_response_status_code="503",strata_process="gateway"} 4
        http_server_request_duration_seconds_count{http_route="/predict",http_response_status_code="200",strata_process="serving.1"} 999
        http_server_request_duration_seconds_count{http_route="/health/ready",http_response_status_code="200",strata_process="gateway"} 7
        strata_features_online_lookups_total{status="present",strata_process="features",view="user \"a\""} 8
        strata_features_online_lookups_total{status="not_found",strata_process="features",view="user \"a\""} 2
        strata_serving_predictions_total{model="seed",strata_process="serving.1",version="1"} 5
        strata_serving_predictions_total{model="seed",strata_process="serving.2",version="1"} 6
        """;

    [Fact]
    public void Parse_KeepsTheFrontDoorsRequests_AndSumsAcrossProcesses()
    {
        var sample = MetricsSample.Parse(Exposition, DateTimeOffset.UnixEpoch);
        Assert.Equal(104, sample.Requests);
        Assert.Equal(4, sample.Errors);
        Assert.Equal([0.001, 0.01, double.PositiveInfinity], sample.Buckets.Keys);
        Assert.Equal(8, sample.FeatureLookups[("user \"a\"", "present")]);
        Assert.Equal(11, sample.ModelPredictions["seed"]);
    }

    [Fact]
    public void Quantile_InterpolatesWithinTheBucket_AsHistogramQuantileDoes()
    {
        var before = new SortedDictionary<double, double> { [0.001] = 0, [0.01] = 0, [double.PositiveInfinity] = 0 };
        var after = MetricsSample.Parse(Exposition, DateTimeOffset.UnixEpoch).Buckets;
        // 100 observations: 50 up to 1 ms, 40 in (1, 10] ms, 10 above. p50 = 1 ms; p80 = 1 + 9 * 30/40 ms; p99 lies in
        // +Inf, so the largest finite bound.
        Assert.Equal(0.001, MetricsRates.Quantile(before, after, 0.5)!.Value, 9);
        Assert.Equal(0.001 + (0.009 * 30 / 40), MetricsRates.Quantile(before, after, 0.8)!.Value, 9);
        Assert.Equal(0.01, MetricsRates.Quantile(before, after, 0.99)!.Value, 9);
        Assert.Null(MetricsRates.Quantile(after, after, 0.99));
        var (_, rate, errors, p99) = MetricsRates.Red([MetricsSample.Parse("", DateTimeOffset.UnixEpoch), MetricsSample.Parse(Exposition, DateTimeOffset.UnixEpoch.AddSeconds(10))]);
        Assert.Equal(10.4, rate[0]!.Value, 9);
        Assert.Equal(100.0 * 4 / 104, errors[0]!.Value, 9);
        Assert.Equal(10, p99[0]!.Value, 6);
    }
}
