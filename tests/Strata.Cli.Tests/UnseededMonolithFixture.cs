using Microsoft.AspNetCore.Builder;
using Strata.Cli.Commands;
using Strata.Cli.Hosting;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>A monolith without seed data on real Kestrel (127.0.0.1, free port), shared by a test class.</summary>
public sealed class UnseededMonolithFixture : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private WebApplication _app = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _app = StrataHost.Build(HostSettings.Monolith(0, _folder.Path));
        await _app.StartAsync();
        Http = new HttpClient { BaseAddress = HostRunner.Address(_app) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _folder.Dispose();
    }
}
