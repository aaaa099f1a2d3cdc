using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>A seeded monolith that lets one other origin's pages call it (CORS).</summary>
public sealed class WebSafetyFixture : ServingFixture
{
    public const string AppOrigin = "https://app.example";

    protected override IDictionary<string, string?> Serving => new Dictionary<string, string?>();

    protected override Task<IDictionary<string, string?>> OtherConfigurationAsync() =>
        Task.FromResult<IDictionary<string, string?>>(new Dictionary<string, string?> { ["Strata:Web:CorsOrigins:0"] = AppOrigin });
}

/// <summary>What a web page on the same machine could do before (issue 24): train and move <c>champion</c> with a
/// cross-site POST; reach Strata under any host name (DNS rebinding). Now: a foreign <c>Origin</c> on a write is a 403
/// that changes nothing, a foreign <c>Host</c> a 400, CORS is an explicit list of origins.</summary>
public sealed class WebSafetyTests(WebSafetyFixture fixture) : IClassFixture<WebSafetyFixture>
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task CrossSiteWrite_FromAForeignOrigin_IsRefusedAndChangesNothing()
    {
        var experiment = $"csrf-{Guid.NewGuid():N}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/training/train")
        {
            Content = new StringContent($$"""{"model": "seed", "experiment": "{{experiment}}", "trees": 5}""", Encoding.UTF8, "text/plain"),
        };
        request.Headers.Add("Origin", "http://evil.example");
        using var refused = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Origin", problem.GetProperty("field").GetString());
        using var lookup = await Http.GetAsync(new Uri($"/api/2.0/mlflow/experiments/get-by-name?experiment_name={experiment}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);

        // The check comes before authentication: a page's write is refused whatever it carries (here nothing; "null" is
        // the origin of a sandboxed frame or a local file).
        using var anonymous = new HttpClient { BaseAddress = Http.BaseAddress };
        using var push = new HttpRequestMessage(HttpMethod.Post, "/api/data/datasets/csrf") { Content = new StringContent("a,b\n1,2\n", Encoding.UTF8, "text/plain") };
        push.Headers.Add("Origin", "null");
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.SendAsync(push)).StatusCode);
    }

    [Fact]
    public async Task SameOriginAndListedOrigin_MayWrite_ReadsAreNotChecked()
    {
        foreach (var origin in new[] { Http.BaseAddress!.GetLeftPart(UriPartial.Authority), WebSafetyFixture.AppOrigin })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/predict") { Content = JsonContent.Create(new { age = 35, income = 50000 }) };
            request.Headers.Add("Origin", origin);
            using var answer = await Http.SendAsync(request);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{origin}: {(int)answer.StatusCode}");
        }
        using var read = new HttpRequestMessage(HttpMethod.Get, "/api/registry/models");
        read.Headers.Add("Origin", "http://evil.example");
        using var models = await Http.SendAsync(read);
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        Assert.False(models.Headers.Contains("Access-Control-Allow-Origin"), "no CORS grant to an unlisted origin");
    }

    [Fact]
    public async Task Cors_Preflight_GrantsTheListedOriginOnly()
    {
        foreach (var (origin, granted) in new[] { (WebSafetyFixture.AppOrigin, true), ("http://evil.example", false) })
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, "/predict");
            preflight.Headers.Add("Origin", origin);
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            preflight.Headers.Add("Access-Control-Request-Headers", "authorization, content-type");
            using var anonymous = new HttpClient { BaseAddress = Http.BaseAddress };
            using var answer = await anonymous.SendAsync(preflight);
            Assert.Equal(granted, answer.Headers.TryGetValues("Access-Control-Allow-Origin", out var allowed) && allowed.Single() == origin);
        }
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("rebound.attacker.example:5000")]
    public async Task ForeignHostName_IsA400_EvenForHealth(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        request.Headers.Host = host;
        using var answer = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Equal("Host", (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());

        using var local = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        local.Headers.Host = $"localhost:{Http.BaseAddress!.Port}";
        Assert.Equal(HttpStatusCode.OK, (await Http.SendAsync(local)).StatusCode);
    }
}
