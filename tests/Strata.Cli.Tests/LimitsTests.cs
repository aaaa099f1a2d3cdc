using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Strata.Cli.Commands;
using Strata.Hosting;
using Strata.Security.Limits;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>A seeded monolith with a small read rate (1/s, burst 2) and a small scoring body limit (4 KiB).</summary>
public sealed class LimitsFixture : ServingFixture
{
    protected override IDictionary<string, string?> Serving => new Dictionary<string, string?> { ["MaxRequestBytes"] = "4096" };

    protected override Task<IDictionary<string, string?>> OtherConfigurationAsync() => Task.FromResult<IDictionary<string, string?>>(new Dictionary<string, string?>
    {
        ["Strata:Limits:Rates:read:PerSecond"] = "1",
        ["Strata:Limits:Rates:read:Burst"] = "2",
    });
}

/// <summary>Limits that protect the service: per-principal token buckets per route group (429 with Retry-After, in each
/// protocol's shape), load shedding beyond the concurrency limit (503 with Retry-After, health exempt), and scoring
/// bodies refused past their own size limit.</summary>
public sealed class LimitsTests(LimitsFixture fixture) : IClassFixture<LimitsFixture>
{
    private HttpClient NewReader() =>
        TestKeys.Authorize(new HttpClient { BaseAddress = fixture.Http.BaseAddress }, TestKeys.Create(fixture.App.Services, "reader", "predictor"));

    [Fact]
    public async Task ReadRate_PerPrincipal_IsEnforcedWith429AndRetryAfter_OtherGroupsAndPrincipalsUnaffected()
    {
        using var reader = NewReader();
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(new Uri("/api/data/datasets", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(new Uri("/api/data/datasets", UriKind.Relative))).StatusCode);
        using var limited = await reader.GetAsync(new Uri("/api/data/datasets", UriKind.Relative));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {limited.Headers.RetryAfter}");
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.Contains("read", JsonDocument.Parse(await limited.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // MLflow's routes answer in MLflow's shape.
        using var mlflow = await reader.GetAsync(new Uri("/api/2.0/mlflow/registered-models/search", UriKind.Relative));
        Assert.Equal(HttpStatusCode.TooManyRequests, mlflow.StatusCode);
        Assert.Equal("REQUEST_LIMIT_EXCEEDED", JsonDocument.Parse(await mlflow.Content.ReadAsStringAsync()).RootElement.GetProperty("error_code").GetString());

        // Scoring is another group (no rate configured), and another principal has a bucket of its own.
        using (var predict = await reader.PostAsJsonAsync("/predict", new { age = 35, income = 50000 }))
        {
            Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        }
        using var other = NewReader();
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync(new Uri("/api/data/datasets", UriKind.Relative))).StatusCode);
        // Strata's own processes are never limited.
        using var service = TestKeys.Authorize(new HttpClient { BaseAddress = fixture.Http.BaseAddress }, TestKeys.ServiceToken(fixture.DataDirectory));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await service.GetAsync(new Uri("/api/data/datasets", UriKind.Relative))).StatusCode);
        }
    }

    [Fact]
    public async Task ScoringBody_PastItsLimit_Is413_InEachProtocolsShape_SmallerIsServed()
    {
        using var scorer = TestKeys.Authorize(new HttpClient { BaseAddress = fixture.Http.BaseAddress }, TestKeys.Create(fixture.App.Services, "predictor"));
        var rows = Enumerable.Range(0, 1000).Select(i => (double)(20 + (i % 50))).ToArray();
        var big = JsonSerializer.Serialize(new { inputs = new object[] { new { name = "age", shape = new[] { rows.Length }, datatype = "FP64", data = rows },
            new { name = "income", shape = new[] { rows.Length }, datatype = "FP64", data = rows } } });
        Assert.True(Encoding.UTF8.GetByteCount(big) > 4096);
        using var v2 = await scorer.PostAsync(new Uri("/v2/models/seed/infer", UriKind.Relative), new StringContent(big, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, v2.StatusCode);
        Assert.True(JsonDocument.Parse(await v2.Content.ReadAsStringAsync()).RootElement.TryGetProperty("error", out _));

        var batch = JsonSerializer.Serialize(Enumerable.Range(0, 200).Select(i => new { age = 30 + (i % 40), income = 50000 }));
        using var predict = await scorer.PostAsync(new Uri("/predict", UriKind.Relative), new StringContent(batch, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, predict.StatusCode);
        Assert.Equal("application/problem+json", predict.Content.Headers.ContentType?.MediaType);

        using var small = await scorer.PostAsJsonAsync("/predict", new { age = 35, income = 50000 });
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }

    [Fact]
    public async Task LoadShedding_BeyondTheConcurrencyLimit_Is503WithRetryAfter_HealthIsNeverShed()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var shedding = new LoadShedding(async _ =>
        {
            entered.TrySetResult();
            await release.Task;
        }, Options.Create(new LimitsOptions { MaxConcurrentRequests = 1 }), NullLogger<LoadShedding>.Instance);

        var first = shedding.InvokeAsync(Context("/predict"));
        await entered.Task;
        var second = Context("/predict");
        await shedding.InvokeAsync(second);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, second.Response.StatusCode);
        Assert.Equal("1", second.Response.Headers.RetryAfter.ToString());
        var health = Context("/health/live");
        var healthTask = shedding.InvokeAsync(health);
        Assert.False(healthTask.IsCompleted); // passed on to the (blocked) pipeline, not shed
        release.SetResult();
        await first;
        await healthTask;
        // With the first request done, the next one is handled.
        var third = Context("/predict");
        await shedding.InvokeAsync(third);
        Assert.Equal(StatusCodes.Status200OK, third.Response.StatusCode);
    }

    [Theory]
    [InlineData("Strata:Limits:Rates:everything:PerSecond", "5", "not a route group")]
    [InlineData("Strata:Limits:Rates:read:PerSecond", "0", "PerSecond must be positive")]
    [InlineData("Strata:Limits:MaxConcurrentRequests", "-1", "MaxConcurrentRequests")]
    public async Task Start_InvalidLimits_FailsNamingTheSetting(string key, string value, string message)
    {
        using var folder = new TempFolder();
        var configuration = new Dictionary<string, string?> { [key] = value };
        if (key.EndsWith("PerSecond", StringComparison.Ordinal))
        {
            configuration[key.Replace("PerSecond", "Burst", StringComparison.Ordinal)] = "1";
        }
        var e = await Assert.ThrowsAsync<StartupException>(() => HostRunner.StartAsync(HostSettings.Monolith(0, folder.Path) with { Configuration = configuration },
            CancellationToken.None));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    private static DefaultHttpContext Context(string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Response.Body = new MemoryStream();
        context.RequestServices = new ServiceCollection().AddLogging().AddProblemDetails()
            .BuildServiceProvider();
        return context;
    }
}
