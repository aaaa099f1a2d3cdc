using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Strata.Gateway.Resilience;
using Strata.ServiceDefaults;
using Strata.Testing;
using Yarp.ReverseProxy;

namespace Strata.Gateway.Tests;

/// <summary>The gateway in front of several replicas of one module (real Kestrel on every side, the gateway's clock
/// fake): outlier ejection with Istio's semantics, the maximum ejected share, retries that never resend what reached a
/// replica, the retry budget, the in-flight limit and the per-module timeout.</summary>
public sealed class ReplicaResilienceTests : IAsyncDisposable
{
    private readonly List<Replica> _replicas = [];
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-12-07T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private WebApplication _gateway = null!;
    private HttpClient _http = null!;

    private async Task StartAsync(int replicas, Dictionary<string, string?>? configuration = null, IReadOnlyList<Uri>? extra = null,
        IReadOnlyList<string>? idempotentPosts = null)
    {
        for (var i = 0; i < replicas; i++)
        {
            _replicas.Add(await Replica.StartAsync());
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Configuration.AddInMemoryCollection(configuration ?? []);
        builder.Services.AddServiceDefaults();
        builder.Services.AddSingleton<TimeProvider>(_clock);
        builder.Services.AddGatewayModule([new ProxiedModule("serving", ["/predict", "/api/serving/{**rest}"],
            [.. _replicas.Select(r => r.Url), .. extra ?? []], null, TimeSpan.FromSeconds(10), idempotentPosts)], builder.Configuration);
        _gateway = builder.Build();
        _gateway.MapDefaultEndpoints();
        _gateway.MapGateway();
        await _gateway.StartAsync();
        _http = new HttpClient { BaseAddress = Address(_gateway) };
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>The replica ids load balancing may choose now.</summary>
    private IReadOnlyList<string> Available() =>
        [.. _gateway.Services.GetRequiredService<IProxyStateLookup>().TryGetCluster("serving", out var cluster)
            ? cluster.DestinationsState.AvailableDestinations.Select(d => d.DestinationId) : []];

    private async Task<List<HttpStatusCode>> GetAsync(int count)
    {
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var response = await _http.GetAsync(new Uri("/api/serving/status", UriKind.Relative));
            codes.Add(response.StatusCode);
        }
        return codes;
    }

    [Fact]
    public async Task Replica_Answering500_IsEjectedAfterFiveErrors_AndBackAfterItsEjectionTime()
    {
        await StartAsync(3);
        _replicas[1].Mode = Mode.Fail500;

        // Until the failing replica has answered 5 errors it is chosen like the others; the fifth ejects it.
        await Eventually.ValueAsync(async () => { await GetAsync(1); return _replicas[1].Hits; }, hits => hits >= 5, TimeSpan.FromSeconds(20), "5 errors");
        Assert.Equal(5, _replicas[1].Hits);
        await Eventually.ValueAsync(() => Task.FromResult(Available()), a => a.Count == 2, TimeSpan.FromSeconds(5), "ejection");
        Assert.Equal(["serving", "serving.3"], Available().Order());

        var codes = await GetAsync(200);
        Assert.All(codes, c => Assert.Equal(HttpStatusCode.OK, c));
        Assert.Equal(5, _replicas[1].Hits);

        // Base ejection time (30 s) times one ejection: still out at 29 s, back at 30 s.
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(2, Available().Count);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually.ValueAsync(() => Task.FromResult(Available()), a => a.Count == 3, TimeSpan.FromSeconds(5), "return after 30 s");

        // Still failing: ejected again, now for twice the base time.
        await Eventually.ValueAsync(async () => { await GetAsync(1); return _replicas[1].Hits; }, hits => hits >= 10, TimeSpan.FromSeconds(20), "5 more errors");
        await Eventually.ValueAsync(() => Task.FromResult(Available()), a => a.Count == 2, TimeSpan.FromSeconds(5), "second ejection");
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2, Available().Count);
        _clock.Advance(TimeSpan.FromSeconds(30));
        await Eventually.ValueAsync(() => Task.FromResult(Available()), a => a.Count == 3, TimeSpan.FromSeconds(5), "return after 60 s");
    }

    [Fact]
    public async Task Errors_NotConsecutive_EjectNobody()
    {
        await StartAsync(2);
        _replicas[0].Mode = Mode.FailEveryOther;

        var codes = await GetAsync(120);

        Assert.Equal(2, Available().Count);
        Assert.True(_replicas[0].Hits >= 20, $"the flaky replica had {_replicas[0].Hits} requests");
        Assert.Contains(HttpStatusCode.InternalServerError, codes);
    }

    [Fact]
    public async Task TwoOfThreeFailing_OnlyOneEjected_NeverMoreThanHalf()
    {
        await StartAsync(3);
        _replicas[0].Mode = Mode.Fail500;
        _replicas[1].Mode = Mode.Fail500;

        await GetAsync(300);

        Assert.Equal(2, Available().Count);
        Assert.Contains("serving.3", Available());
        // The one that stayed in (max 50% of 3 is 1) keeps being chosen.
        var before = _replicas[0].Hits + _replicas[1].Hits;
        await GetAsync(100);
        Assert.True(_replicas[0].Hits + _replicas[1].Hits > before, "the failing replica left in rotation was not chosen again");
        Assert.Equal(2, Available().Count);
    }

    [Fact]
    public async Task ConnectionRefused_PostIsRetriedOnAnotherReplica_BodyIntact()
    {
        await StartAsync(1, extra: [ClosedPort()]);
        var payload = new string('x', 20_000);

        for (var i = 0; i < 50; i++)
        {
            using var response = await _http.PostAsync(new Uri("/predict", UriKind.Relative), new StringContent(payload));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"POST {payload.Length}", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(50, _replicas[0].Hits);
        // Connection failures count as errors: the dead replica is out after 5 (two replicas, 50%: one may go).
        await Eventually.ValueAsync(() => Task.FromResult(Available()), a => a.Count == 1, TimeSpan.FromSeconds(5), "dead replica ejected");
    }

    [Fact]
    public async Task ReplicaDropsConnection_PostIsNotResent_GetIsRetried()
    {
        await StartAsync(2, new() { ["Strata:Gateway:OutlierDetection:ConsecutiveErrors"] = "1000" });
        _replicas[0].Mode = Mode.Abort;

        var posts = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++)
        {
            using var response = await _http.PostAsync(new Uri("/predict", UriKind.Relative), new StringContent("{}"));
            posts.Add(response.StatusCode);
        }
        // A POST that reached the replica may have done its work: never sent again; each reached one replica once.
        var aborted = posts.Count(c => c == HttpStatusCode.BadGateway);
        Assert.Equal(_replicas[0].Hits, aborted);
        Assert.True(aborted > 0);
        Assert.Equal(40 - aborted, _replicas[1].Hits);

        var gets = await GetAsync(40);
        Assert.All(gets, c => Assert.Equal(HttpStatusCode.OK, c));
        Assert.True(_replicas[0].Hits > aborted, "no GET reached the dropping replica");
    }

    [Fact]
    public async Task ReplicaDropsConnection_IdempotentPost_IsSentToAnotherReplica_BodyIntact()
    {
        await StartAsync(2, new() { ["Strata:Gateway:OutlierDetection:ConsecutiveErrors"] = "1000" }, idempotentPosts: ["/predict"]);
        _replicas[0].Mode = Mode.Abort;
        var payload = new string('y', 100_000);

        for (var i = 0; i < 40; i++)
        {
            using var response = await _http.PostAsync(new Uri("/predict", UriKind.Relative), new StringContent(payload));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"POST {payload.Length}", await response.Content.ReadAsStringAsync());
        }
        // A body of unknown length (chunked, as .NET's PostAsJsonAsync sends) is kept as well.
        for (var i = 0; i < 20; i++)
        {
            using var response = await _http.PostAsync(new Uri("/predict", UriKind.Relative), System.Net.Http.Json.JsonContent.Create(new { payload }));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"POST {payload.Length + 14}", await response.Content.ReadAsStringAsync());
        }
        Assert.True(_replicas[0].Hits > 0, "no request reached the dropping replica");
        Assert.Equal(60, _replicas[1].Hits);

        // Other POSTs of the same module are never sent twice.
        _replicas[1].Mode = Mode.Abort;
        using var feedback = await _http.PostAsync(new Uri("/api/serving/feedback", UriKind.Relative), new StringContent("[]"));
        Assert.Equal(HttpStatusCode.BadGateway, feedback.StatusCode);
    }

    /// <summary>A replica restarting answers 503 until its model is loaded: an idempotent request goes to another replica
    /// (the 503 never reaches the client); any other request gets the replica's own answer.</summary>
    [Fact]
    public async Task ReplicaAnswers503_IdempotentRequestsGoElsewhere_OthersGetTheAnswer()
    {
        await StartAsync(2, new() { ["Strata:Gateway:OutlierDetection:ConsecutiveErrors"] = "1000" }, idempotentPosts: ["/predict"]);
        _replicas[0].Mode = Mode.Unavailable;

        Assert.All(await GetAsync(30), c => Assert.Equal(HttpStatusCode.OK, c));
        for (var i = 0; i < 30; i++)
        {
            using var response = await _http.PostAsync(new Uri("/predict", UriKind.Relative), new StringContent("{\"a\": 1}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("POST 8", await response.Content.ReadAsStringAsync());
        }
        Assert.True(_replicas[0].Hits > 0, "no request reached the unavailable replica");
        Assert.Equal(60, _replicas[1].Hits);

        var feedback = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await _http.PostAsync(new Uri("/api/serving/feedback", UriKind.Relative), new StringContent("[]"));
            feedback.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        Assert.Contains("503 not ready", feedback);
        Assert.Equal(20, feedback.Count(f => f is "503 not ready" or "200 POST 2"));
    }

    [Fact]
    public void RetryBudget_AllowsItsShareOfRequests_ThenRefuses_AndRefills()
    {
        var budget = new RetryBudget(new RetryOptions { BudgetPercent = 20, MinRetriesPerSecond = 0, BudgetWindow = TimeSpan.FromSeconds(10) }, _clock);
        for (var i = 0; i < 100; i++)
        {
            budget.Request();
        }
        Assert.Equal(20, Enumerable.Range(0, 50).Count(_ => budget.TryRetry()));

        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.False(budget.TryRetry());
        for (var i = 0; i < 10; i++)
        {
            budget.Request();
        }
        Assert.Equal(2, Enumerable.Range(0, 10).Count(_ => budget.TryRetry()));

        // Ten seconds later the first second's requests and retries have left the window.
        _clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(0, Enumerable.Range(0, 10).Count(_ => budget.TryRetry()));
        var floor = new RetryBudget(new RetryOptions { BudgetPercent = 0, MinRetriesPerSecond = 3, BudgetWindow = TimeSpan.FromSeconds(2) }, _clock);
        Assert.Equal(6, Enumerable.Range(0, 10).Count(_ => floor.TryRetry()));
    }

    [Fact]
    public async Task RetryBudgetSpent_FailureIsAnswered_NotRetried()
    {
        await StartAsync(1, new()
        {
            ["Strata:Gateway:Retries:BudgetPercent"] = "0",
            ["Strata:Gateway:Retries:MinRetriesPerSecond"] = "0",
            ["Strata:Gateway:OutlierDetection:ConsecutiveErrors"] = "1000",
        }, extra: [ClosedPort()]);

        var codes = await GetAsync(40);

        Assert.Contains(HttpStatusCode.BadGateway, codes);
        Assert.Equal(codes.Count(c => c == HttpStatusCode.OK), _replicas[0].Hits);
    }

    [Fact]
    public async Task InFlightLimit_Reached_ShedsWith503AtOnce_ThenRecovers()
    {
        await StartAsync(1, new() { ["Strata:Gateway:MaxRequestsPerReplica"] = "2" });
        _replicas[0].Mode = Mode.Hang;
        var held = Enumerable.Range(0, 2).Select(_ => _http.GetAsync(new Uri("/api/serving/status", UriKind.Relative))).ToList();
        await Eventually.ValueAsync(() => Task.FromResult(_replicas[0].Hits), h => h == 2, TimeSpan.FromSeconds(10), "two requests in flight");

        using (var shed = await _http.GetAsync(new Uri("/api/serving/status", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
            Assert.Equal("1", shed.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal("application/problem+json", shed.Content.Headers.ContentType?.MediaType);
            Assert.Contains("serving", await shed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(2, _replicas[0].Hits);

        _replicas[0].Mode = Mode.Ok;
        _replicas[0].Release();
        foreach (var response in await Task.WhenAll(held))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }
        Assert.All(await GetAsync(3), c => Assert.Equal(HttpStatusCode.OK, c));
    }

    [Fact]
    public async Task ModuleTimeout_StuckReplica_Answers504()
    {
        await StartAsync(1, new() { ["Strata:Gateway:Timeouts:serving"] = "00:00:00.300" });
        _replicas[0].Mode = Mode.Hang;

        using var response = await _http.PostAsync(new Uri("/predict", UriKind.Relative), new StringContent("{}"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        _replicas[0].Release();
    }

    private static Uri ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return new Uri($"http://127.0.0.1:{((IPEndPoint)socket.LocalEndPoint!).Port}/");
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
        foreach (var replica in _replicas)
        {
            replica.Release();
            await replica.App.DisposeAsync();
        }
    }

    private enum Mode
    {
        Ok,
        Fail500,
        FailEveryOther,
        Abort,
        Hang,
        Unavailable,
    }

    /// <summary>A stand-in module process: answers its requests as told, counting them.</summary>
    private sealed class Replica
    {
        private int _hits;
        private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public required WebApplication App { get; init; }

        public required Uri Url { get; init; }

        public Mode Mode { get; set; }

        public int Hits => Volatile.Read(ref _hits);

        public void Release() => _gate.TrySetResult();

        public static async Task<Replica> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            Replica? self = null;
            app.MapGet("/health/ready", () => Results.Ok());
            app.Map("/{**path}", async (HttpContext c) =>
            {
                var hit = Interlocked.Increment(ref self!._hits);
                using var reader = new StreamReader(c.Request.Body);
                var body = await reader.ReadToEndAsync();
                switch (self.Mode)
                {
                    case Mode.Fail500:
                    case Mode.FailEveryOther when hit % 2 == 0:
                        return Results.StatusCode(500);
                    case Mode.Abort:
                        c.Abort();
                        return Results.Empty;
                    case Mode.Unavailable:
                        return Results.Text("not ready", statusCode: 503);
                    case Mode.Hang:
                        await self._gate.Task;
                        break;
                }
                return Results.Text($"{c.Request.Method} {body.Length}");
            });
            await app.StartAsync();
            self = new Replica { App = app, Url = Address(app) };
            return self;
        }
    }
}
