using Microsoft.Data.Sqlite;

namespace Strata.ServiceDefaults.Sql;

/// <summary>Opening one of Strata's SQLite files the same way everywhere: its folder created, WAL (readers never block
/// the writer) with synchronous NORMAL (durable at each checkpoint, never corrupt), a busy timeout so a second process
/// waits for the write lock instead of failing, and the store's migrations applied (<see cref="SchemaMigrations"/>).
/// The embedded stores hold one unpooled connection each and serialise their own writers.</summary>
public static class SqliteDatabase
{
    public static SqliteConnection Open(string path, string store, IReadOnlyList<Migration> migrations, int busyTimeoutMs = 5000, string? pragmas = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connection = new SqliteConnection(ConnectionString(path, pooling: false, busyTimeoutMs));
        try
        {
            connection.Open();
            using (var setup = connection.CreateCommand())
            {
                // Journal mode cannot change inside a transaction: the pragmas go before the migrations.
                setup.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout={busyTimeoutMs}; {pragmas}";
                setup.ExecuteNonQuery();
            }
            // Microsoft.Data.Sqlite runs its async calls synchronously: this completes before it returns.
            SchemaMigrations.ApplyAsync(connection, store, migrations, CancellationToken.None).GetAwaiter().GetResult();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The connection string Strata's SQLite files are opened with (the command timeout matches the busy timeout).</summary>
    public static string ConnectionString(string path, bool pooling, int busyTimeoutMs = 5000) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = pooling,
        DefaultTimeout = Math.Max(30, busyTimeoutMs / 1000),
    }.ToString();
}
