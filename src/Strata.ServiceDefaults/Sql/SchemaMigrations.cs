using System.Data.Common;
using System.Globalization;

namespace Strata.ServiceDefaults.Sql;

/// <summary>One step of a store's schema: plain SQL, or (for the baseline that adopts databases created before
/// migrations were recorded) code that inspects what is there.</summary>
public sealed record Migration(int Version, string Description, string? Sql, Func<DbConnection, DbTransaction, CancellationToken, Task>? Apply = null);

/// <summary>Versioned schema changes: each store lists its migrations in order; the versions applied are recorded in
/// <c>schema_migrations</c> (store, version, description, applied_at), and opening a store applies the ones above the
/// recorded version, all in one transaction with their records, so a failed step leaves the schema as it was. Several
/// processes opening one database together apply each step once: the transaction holds the database's write lock
/// (SQLite's BEGIN IMMEDIATE) or <paramref name="lockSql"/> (PostgreSQL's advisory lock) before reading the version.
/// Stores sharing a database (the registry and tracking stores on one PostgreSQL) keep their versions apart by store name.</summary>
public static class SchemaMigrations
{
    public const string Table = "schema_migrations";

    /// <summary>Applies what is pending; returns the schema version the store is now at.</summary>
    public static async Task<int> ApplyAsync(DbConnection connection, string store, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken,
        string? lockSql = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(migrations);
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"{store}: migration {i + 1} is numbered {migrations[i].Version}; versions run 1, 2, 3, ... in order");
            }
        }
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        if (lockSql is not null)
        {
            await ExecuteAsync(connection, tx, lockSql, cancellationToken);
        }
        await ExecuteAsync(connection, tx,
            $"CREATE TABLE IF NOT EXISTS {Table} (store TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (store, version))",
            cancellationToken);
        int current;
        await using (var read = connection.CreateCommand())
        {
            read.Transaction = tx;
            read.CommandText = $"SELECT COALESCE(MAX(version), 0) FROM {Table} WHERE store = '{store.Replace("'", "''", StringComparison.Ordinal)}'";
            current = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        if (current > migrations.Count)
        {
            throw new InvalidOperationException($"{store}: the database is at schema version {current}, newer than this Strata knows ({migrations.Count}); upgrade Strata");
        }
        foreach (var migration in migrations.Skip(current))
        {
            if (migration.Sql is { } sql)
            {
                await ExecuteAsync(connection, tx, sql, cancellationToken);
            }
            if (migration.Apply is { } apply)
            {
                await apply(connection, tx, cancellationToken);
            }
            await using var record = connection.CreateCommand();
            record.Transaction = tx;
            record.CommandText = $"INSERT INTO {Table} (store, version, description) VALUES (@store, @version, @description)";
            Parameter(record, "@store", store);
            Parameter(record, "@version", migration.Version);
            Parameter(record, "@description", migration.Description);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return migrations.Count;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction tx, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Parameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
