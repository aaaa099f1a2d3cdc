using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Strata.Contracts;
using Strata.Hosting;
using Strata.ServiceDefaults;

namespace Strata.Gateway.Tests;

/// <summary>The gateway proxies each module's routes to that module's process (real Kestrel on both sides) and is
/// ready only when every module behind it is.</summary>
public sealed class GatewayModuleTests : IAsyncLifetime
{
    private readonly Dictionary<string, WebApplication> _modules = [];
    private readonly Dictionary<string, bool> _ready = [];
    private WebApplication _gateway = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        foreach (var module in StrataModules.All.Select(m => m.Name))
        {
            _ready[module] = true;
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var name = module;
            app.MapGet("/health/ready", () => _ready[name] ? Results.Ok() : Results.StatusCode(503));
            app.Map("/{**path}", (HttpContext c) => Results.Text($"{name} {c.Request.Method} {c.Request.Path}{c.Request.QueryString} host={c.Request.Headers["X-Forwarded-Host"]}"));
            await app.StartAsync();
            _modules[module] = app;
        }
        var gateway = WebApplication.CreateSlimBuilder();
        gateway.Logging.ClearProviders();
        gateway.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        gateway.Services.AddServiceDefaults();
        gateway.Services.AddGatewayModule([.. StrataModules.All.Select(m => new ProxiedModule(m.Name, [.. m.GatewayPatterns], Address(_modules[m.Name])))]);
        _gateway = gateway.Build();
        _gateway.MapDefaultEndpoints();
        _gateway.MapGateway();
        await _gateway.StartAsync();
        _http = new HttpClient { BaseAddress = Address(_gateway) };
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    [Theory]
    [InlineData("POST", "/predict", "serving")]
    [InlineData("GET", "/api/serving/status", "serving")]
    [InlineData("POST", "/train", "training")]
    [InlineData("POST", "/api/training/train", "training")]
    [InlineData("GET", "/api/data/datasets?name=seed", "data")]
    [InlineData("GET", "/api/features/views/seed_features", "features")]
    [InlineData("PUT", "/api/registry/models/m/aliases/champion", "registry")]
    [InlineData("GET", "/openapi/registry.json", "registry")]
    [InlineData("GET", "/openapi/data.json", "data")]
    public async Task Proxy_ModuleRoute_ReachesThatModuleUnchanged(string method, string path, string module)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.StartsWith($"{module} {method} {path}", body, StringComparison.Ordinal);
        Assert.EndsWith($"host={_http.BaseAddress!.Authority}", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_UnknownPath_IsNotForwarded()
    {
        using var response = await _http.GetAsync(new Uri("/api/unknown/x", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Ready_OneModuleNotReady_GatewayNotReady()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        _ready[ModuleNames.Serving] = false;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Proxy_ModuleDown_Answers502NotAHang()
    {
        await _modules[ModuleNames.Serving].StopAsync();
        using var response = await _http.PostAsync(new Uri("/predict", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        foreach (var app in _modules.Values)
        {
            await app.DisposeAsync();
        }
    }
}
