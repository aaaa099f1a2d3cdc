using System.Data.Common;
using Microsoft.Data.Sqlite;
using Strata.Registry.Storage;
using Strata.ServiceDefaults.Sql;
using Strata.Testing;

namespace Strata.Registry.Tests;

/// <summary>Versioned schema changes: recorded per store, applied once, all-or-nothing, refused when the database is
/// newer than the code, and a database created before migrations were recorded is adopted without losing a row.</summary>
public sealed class SchemaMigrationTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private SqliteConnection Open(string name = "schema.db")
    {
        var connection = new SqliteConnection(SqliteDatabase.ConnectionString(Path.Combine(_folder.Path, name), pooling: false));
        connection.Open();
        return connection;
    }

    private static long Scalar(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static readonly Migration First = new(1, "a", "CREATE TABLE a (x INTEGER)");
    private static readonly Migration Second = new(2, "b", "CREATE TABLE b (x INTEGER); INSERT INTO b VALUES (1)");

    [Fact]
    public async Task Steps_AreAppliedOnce_InOrder_AndRecordedPerStore()
    {
        await using var connection = Open();
        Assert.Equal(1, await SchemaMigrations.ApplyAsync(connection, "one", [First], CancellationToken.None));
        // Again with a step more: only the new one runs (CREATE TABLE a again would fail).
        Assert.Equal(2, await SchemaMigrations.ApplyAsync(connection, "one", [First, Second], CancellationToken.None));
        Assert.Equal(2, await SchemaMigrations.ApplyAsync(connection, "one", [First, Second], CancellationToken.None));
        Assert.Equal(1, Scalar(connection, "SELECT COUNT(*) FROM b"));
        Assert.Equal(2, Scalar(connection, "SELECT MAX(version) FROM schema_migrations WHERE store = 'one'"));
        Assert.Equal(0, Scalar(connection, "SELECT COUNT(*) FROM schema_migrations WHERE store = 'other'"));
    }

    [Fact]
    public async Task AFailingStep_LeavesTheSchemaAsItWas()
    {
        await using var connection = Open();
        await SchemaMigrations.ApplyAsync(connection, "one", [First], CancellationToken.None);
        var broken = new Migration(2, "b, then a mistake", "CREATE TABLE b (x INTEGER); INSERT INTO no_such_table VALUES (1)");
        await Assert.ThrowsAsync<SqliteException>(() => SchemaMigrations.ApplyAsync(connection, "one", [First, broken], CancellationToken.None));
        Assert.Equal(1, Scalar(connection, "SELECT MAX(version) FROM schema_migrations WHERE store = 'one'"));
        Assert.Equal(0, Scalar(connection, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'"));
        Assert.Equal(2, await SchemaMigrations.ApplyAsync(connection, "one", [First, Second], CancellationToken.None));
    }

    [Fact]
    public async Task ADatabaseNewerThanTheCode_IsRefused_AndMisnumberedStepsAreABug()
    {
        await using var connection = Open();
        await SchemaMigrations.ApplyAsync(connection, "one", [First, Second], CancellationToken.None);
        var newer = await Assert.ThrowsAsync<InvalidOperationException>(() => SchemaMigrations.ApplyAsync(connection, "one", [First], CancellationToken.None));
        Assert.Contains("newer", newer.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => SchemaMigrations.ApplyAsync(connection, "two", [Second], CancellationToken.None));
    }

    [Fact]
    public async Task ProcessesOpeningTogether_ApplyEachStepOnce()
    {
        // Eight connections (as eight processes) migrate one file at once: BEGIN IMMEDIATE queues them, and the ones
        // after the first find the steps recorded (a second CREATE TABLE a would fail).
        var connections = Enumerable.Range(0, 8).Select(_ => Open()).ToList();
        foreach (var c in connections)
        {
            using var busy = c.CreateCommand();
            busy.CommandText = "PRAGMA busy_timeout = 10000";
            busy.ExecuteNonQuery();
        }
        await Task.WhenAll(connections.Select(c => Task.Run(() => SchemaMigrations.ApplyAsync(c, "one", [First, Second], CancellationToken.None))));
        Assert.Equal(1, Scalar(connections[0], "SELECT COUNT(*) FROM b"));
        Assert.Equal(2, Scalar(connections[0], "SELECT COUNT(*) FROM schema_migrations WHERE store = 'one'"));
        foreach (var c in connections)
        {
            await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task ARegistryDatabaseFromBeforeMigrations_IsAdopted_WithItsRows()
    {
        var path = Path.Combine(_folder.Path, "registry.db");
        await using (var old = Open("registry.db"))
        {
            // The first release's schema: no request_id or run_id on versions, no schema_migrations.
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE registered_models (name TEXT PRIMARY KEY, created_at TEXT NOT NULL);
                CREATE TABLE model_versions (model TEXT NOT NULL REFERENCES registered_models(name), version INTEGER NOT NULL, created_at TEXT NOT NULL,
                  artifact_sha256 TEXT NOT NULL, artifact_size INTEGER NOT NULL, format TEXT NOT NULL, metrics TEXT NOT NULL, params TEXT NOT NULL,
                  dataset_version TEXT, feature_view TEXT, feature_view_version TEXT, feature_names TEXT NOT NULL, description TEXT, PRIMARY KEY (model, version));
                INSERT INTO registered_models VALUES ('fraud', '2026-01-01T00:00:00+00:00');
                INSERT INTO model_versions VALUES ('fraud', 1, '2026-01-01T00:00:00+00:00', 'abc', 10, 'mlnet', '{}', '{}', NULL, NULL, NULL, '["amount"]', NULL);
                """;
            create.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();

        await using (var store = SqlRegistryStore.Sqlite(path))
        {
            await store.InitializeAsync(CancellationToken.None);
            var version = await store.GetVersionAsync("fraud", 1, CancellationToken.None);
            Assert.NotNull(version);
            Assert.Equal("abc", version.ArtifactSha256);
            Assert.Null(version.RunId);
        }
        SqliteConnection.ClearAllPools();
        await using var check = Open("registry.db");
        Assert.Equal(2, Scalar(check, "SELECT COUNT(*) FROM pragma_table_info('model_versions') WHERE name IN ('request_id', 'run_id')"));
        Assert.Equal(5, Scalar(check, "SELECT MAX(version) FROM schema_migrations WHERE store = 'registry'")); // 2: model descriptions; 3: traffic policies; 4: rollouts; 5: experiments
        Assert.Equal(1, Scalar(check, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'model_versions_request'"));
    }
}
