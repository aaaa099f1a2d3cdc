using Microsoft.AspNetCore.Builder;
using Strata.Cli.Commands;
using Strata.Hosting;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>A monolith without seed data on real Kestrel (127.0.0.1, free port), shared by a test class; its registry
/// and tracking stores are SQLite files.</summary>
public class UnseededMonolithFixture : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private WebApplication? _app;
    private HttpClient? _http;

    /// <summary>The monolith's client; the test is skipped when a server its stores need is not installed (outside CI).</summary>
    public HttpClient Http => _http ?? throw new SkipException(PostgresServer.InstallHint);

    /// <summary>An admin key of this Strata (<see cref="Http"/> presents it).</summary>
    public string ApiKey { get; private set; } = null!;

    /// <summary>The environment a CLI run against this Strata needs.</summary>
    public IReadOnlyDictionary<string, string> CliEnvironment => TestKeys.Environment(ApiKey);

    /// <summary>The monolith's data directory.</summary>
    public string DataDirectory => _folder.Path;

    /// <summary>The running host (its services), once started.</summary>
    public WebApplication App => _app ?? throw new SkipException(PostgresServer.InstallHint);

    /// <summary>Configuration of the monolith; null when it cannot start here.</summary>
    protected virtual Task<IReadOnlyDictionary<string, string?>?> ConfigurationAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string?>?>(new Dictionary<string, string?>());

    public async Task InitializeAsync()
    {
        if (await ConfigurationAsync() is not { } configuration)
        {
            return;
        }
        _app = StrataHost.Build(HostSettings.Monolith(0, _folder.Path) with { Configuration = configuration });
        await _app.StartAsync();
        ApiKey = TestKeys.Create(_app.Services);
        _http = TestKeys.Authorize(new HttpClient { BaseAddress = HostRunner.Address(_app) }, ApiKey);
    }

    public virtual async Task DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        _folder.Dispose();
    }
}

/// <summary>The same monolith with its registry and tracking stores in PostgreSQL (a server of its own).</summary>
public sealed class PostgresMonolithFixture : UnseededMonolithFixture
{
    private PostgresServer? _server;

    /// <summary>The database the monolith's stores use.</summary>
    public string? ConnectionString { get; private set; }

    protected override async Task<IReadOnlyDictionary<string, string?>?> ConfigurationAsync()
    {
        _server = await PostgresServer.StartAsync();
        if (_server is null)
        {
            return null;
        }
        ConnectionString = await _server.CreateDatabaseAsync();
        return new Dictionary<string, string?> { ["Strata:Registry:Store"] = "postgres", ["Strata:Registry:Postgres"] = ConnectionString };
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
