using Xunit;

namespace Strata.Testing;

/// <summary>One PostgreSQL server per test class (xUnit class fixture); each test creates its own database on it.
/// Null <see cref="Server"/> when PostgreSQL is not installed (outside CI the tests that need it skip).</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer? Server { get; private set; }

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}
