namespace Strata.Cli.Tests;

/// <summary>A seeded monolith on real Kestrel (127.0.0.1, free port) with serving's defaults (every prediction logged,
/// aliases re-read every 100 ms), shared by a test class.</summary>
public sealed class MonolithFixture : ServingFixture
{
    protected override IDictionary<string, string?> Serving => new Dictionary<string, string?>();
}

/// <summary>The seeded monolith with its registry and tracking stores in PostgreSQL (a server of its own): training
/// registers there, serving loads from there. Under CI a missing PostgreSQL fails; elsewhere the fixture throws the
/// install hint, failing the class's tests.</summary>
public sealed class PostgresMonolithServingFixture : ServingFixture
{
    private Strata.Testing.PostgresServer? _server;

    protected override IDictionary<string, string?> Serving => new Dictionary<string, string?>();

    protected override async Task<IDictionary<string, string?>> OtherConfigurationAsync()
    {
        _server = await Strata.Testing.PostgresServer.StartAsync() ?? throw new InvalidOperationException(Strata.Testing.PostgresServer.InstallHint);
        return new Dictionary<string, string?> { ["Strata:Registry:Store"] = "postgres", ["Strata:Registry:Postgres"] = await _server.CreateDatabaseAsync() };
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
