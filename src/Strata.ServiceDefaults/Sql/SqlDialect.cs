using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Strata.ServiceDefaults.Sql;
using Npgsql;

namespace Strata.ServiceDefaults.Sql;

/// <summary>What differs between the databases the SQL stores (registry, tracking, monitoring) run on (SQLite, the embedded default,
/// and PostgreSQL): connections, column types, serialised writes, pattern matching. The stores write their SQL once,
/// with <c>@name</c> parameters, which both providers take.</summary>
public abstract class SqlDialect : IAsyncDisposable
{
    public abstract string Name { get; }

    /// <summary>A 64-bit integer column.</summary>
    public abstract string BigInt { get; }

    /// <summary>A double-precision column.</summary>
    public abstract string Real { get; }

    /// <summary>A text column compared and sorted by code point (SQLite's BINARY; PostgreSQL's "C" collation, whatever
    /// the database's locale), so ordering and paging agree on both.</summary>
    public abstract string Text { get; }

    public abstract string Bytes { get; }

    /// <summary>A 64-bit key assigned in insertion order.</summary>
    public abstract string SequenceKey { get; }

    /// <summary>Appended to a table whose primary key is the whole row's identity (SQLite's clustered form).</summary>
    public abstract string Clustered { get; }

    /// <summary>Makes a (key, value) index cover <paramref name="columns"/> too, so a filter reads the index only. SQLite
    /// needs nothing: an index of a WITHOUT ROWID table holds the primary key already.</summary>
    public abstract string Covering(string columns);

    /// <summary>Whether parameters can be arrays (PostgreSQL): a batch becomes one statement over <c>unnest</c>, an id
    /// list one <c>= ANY(@ids)</c>, instead of a parameter per value.</summary>
    public virtual bool HasArrays => false;

    /// <summary><c>column IN (...)</c> over <paramref name="values"/>, with the parameters added to <paramref name="command"/>.</summary>
    public virtual string InList(DbCommand command, string column, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var names = new string[values.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = "@in" + i.ToString(CultureInfo.InvariantCulture);
            Add(command, names[i], values[i], DbType.String);
        }
        return $"{column} IN ({string.Join(',', names)})";
    }

    /// <summary>How a search's metric/param/tag filters select runs. SQLite: the INTERSECT of each filter's index range,
    /// driving a CROSS JOIN to runs (SQLite keeps a CROSS JOIN's order). PostgreSQL: one join per filter -- each
    /// (run_uuid, key) is unique, so the joins intersect -- since its planner estimates an INTERSECT's rows far too high
    /// (9,558 for 1,534 over 100,000 runs) and then scans every run, where it estimates the joins well and looks each
    /// candidate run up by key (measured: 78 ms -> 16-30 ms).</summary>
    public abstract bool JoinsFilters { get; }

    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Applies the store's pending migrations (<see cref="SchemaMigrations"/>), safe when several processes
    /// start together.</summary>
    public abstract Task MigrateAsync(DbConnection connection, string store, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken);

    /// <summary>Adds a column an older schema lacks (for a baseline migration adopting databases created before
    /// migrations were recorded; later changes are plain migrations).</summary>
    public abstract Task AddColumnIfMissingAsync(DbConnection connection, DbTransaction transaction, string table, string column, string type,
        CancellationToken cancellationToken);

    /// <summary>A transaction in which no other writer of <paramref name="table"/> interleaves (numbering, read-then-write).</summary>
    public abstract Task<DbTransaction> BeginSerializedAsync(DbConnection connection, string table, CancellationToken cancellationToken);

    /// <summary>SQL's case-sensitive LIKE (MLflow's semantics) against a parameter added by <paramref name="add"/>.</summary>
    public abstract string Like(string column, string pattern, Func<object, string> add);

    public abstract string ILike(string column, string pattern, Func<object, string> add);

    /// <summary>The values of <paramref name="column"/> in <paramref name="fromWhere"/>, sorted, joined by commas.</summary>
    public abstract string SortedList(string column, string fromWhere);

    public abstract ValueTask DisposeAsync();

    public static SqlDialect Sqlite(string databasePath) => new SqliteDialect(databasePath);

    public static SqlDialect Postgres(string connectionString) => new PostgresDialect(connectionString);

    /// <summary>A command with <c>@name</c> parameters (a null value is SQL NULL).</summary>
    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            Add(command, name, value);
        }
        return command;
    }

    public static DbParameter Add(DbCommand command, string name, object? value, DbType? type = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        if (type is { } t)
        {
            parameter.DbType = t;
        }
        command.Parameters.Add(parameter);
        return parameter;
    }

    private sealed class SqliteDialect(string databasePath) : SqlDialect
    {
        private readonly string _connectionString = SqliteDatabase.ConnectionString(databasePath, pooling: true);

        public override string Name => "sqlite";
        public override string BigInt => "INTEGER";
        public override string Real => "REAL";
        public override string Text => "TEXT";
        public override string Bytes => "BLOB";
        public override string SequenceKey => "INTEGER PRIMARY KEY AUTOINCREMENT";
        public override string Clustered => " WITHOUT ROWID";
        public override bool JoinsFilters => false;
        public override string Covering(string columns) => string.Empty;

        public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
            var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync(cancellationToken);
            // Each command a span when tracing records the request (SQLite traces nothing itself).
            return new TracedConnection(connection, Path.GetFileName(databasePath));
        }

        public override async Task MigrateAsync(DbConnection connection, string store, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
        {
            // WAL: readers never block the writer. Journal mode cannot change inside a transaction, so it goes first.
            await using (var command = Command(connection, null, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await SchemaMigrations.ApplyAsync(connection, store, migrations, cancellationToken);
        }

        public override async Task AddColumnIfMissingAsync(DbConnection connection, DbTransaction transaction, string table, string column, string type,
            CancellationToken cancellationToken)
        {
            await using var exists = Command(connection, transaction, $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = @column", ("@column", column));
            if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 0)
            {
                await using var alter = Command(connection, transaction, $"ALTER TABLE {table} ADD COLUMN {column} {type}");
                await alter.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        // Microsoft.Data.Sqlite begins IMMEDIATE transactions: the write lock is taken up front, writers queue.
        public override async Task<DbTransaction> BeginSerializedAsync(DbConnection connection, string table, CancellationToken cancellationToken) =>
            await connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken);

        // SQLite's LIKE ignores case; GLOB does not, so the pattern is translated.
        public override string Like(string column, string pattern, Func<object, string> add) => $"{column} GLOB {add(LikeToGlob(pattern))}";

        public override string ILike(string column, string pattern, Func<object, string> add) => $"{column} LIKE {add(pattern)} ESCAPE '\\'";

        public override string SortedList(string column, string fromWhere) =>
            $"(SELECT group_concat({column}, ',') FROM (SELECT {column} FROM {fromWhere} ORDER BY {column}) sorted)";

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class PostgresDialect(string connectionString) : SqlDialect
    {
        private readonly NpgsqlDataSource _source = Build(connectionString);

        // Statements that repeat (reads by id list, batch writes) are prepared on first reuse, unless the connection
        // string says otherwise.
        private static NpgsqlDataSource Build(string connectionString)
        {
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
            {
                builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
                builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
            }
            return builder.Build();
        }

        public override string Name => "postgres";
        public override string BigInt => "BIGINT";
        public override string Real => "DOUBLE PRECISION";
        public override string Text => "TEXT COLLATE \"C\"";
        public override string Bytes => "BYTEA";
        public override string SequenceKey => "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";
        public override string Clustered => string.Empty;
        public override bool JoinsFilters => true;
        public override string Covering(string columns) => $" INCLUDE ({columns})";
        public override bool HasArrays => true;

        public override string InList(DbCommand command, string column, IReadOnlyList<string> values)
        {
            Add(command, "@in", values.ToArray());
            return $"{column} = ANY(@in)";
        }

        public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => await _source.OpenConnectionAsync(cancellationToken);

        // Concurrent CREATE ... IF NOT EXISTS can still collide in PostgreSQL's catalog, and two processes must not both
        // apply a step: one schema writer at a time, under an advisory lock held to the end of the transaction.
        public override Task MigrateAsync(DbConnection connection, string store, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken) =>
            SchemaMigrations.ApplyAsync(connection, store, migrations, cancellationToken, lockSql: "SELECT pg_advisory_xact_lock(7216458301)");

        public override async Task AddColumnIfMissingAsync(DbConnection connection, DbTransaction transaction, string table, string column, string type,
            CancellationToken cancellationToken)
        {
            await using var alter = Command(connection, transaction, $"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {type}");
            await alter.ExecuteNonQueryAsync(cancellationToken);
        }

        // SHARE ROW EXCLUSIVE conflicts with itself and with every write, not with reads: writers of the table queue.
        public override async Task<DbTransaction> BeginSerializedAsync(DbConnection connection, string table, CancellationToken cancellationToken)
        {
            var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            await using var command = Command(connection, tx, $"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE");
            await command.ExecuteNonQueryAsync(cancellationToken);
            return tx;
        }

        public override string Like(string column, string pattern, Func<object, string> add) => $"{column} LIKE {add(pattern)} ESCAPE '\\'";

        public override string ILike(string column, string pattern, Func<object, string> add) => $"{column} ILIKE {add(pattern)} ESCAPE '\\'";

        public override string SortedList(string column, string fromWhere) => $"(SELECT string_agg({column}, ',' ORDER BY {column}) FROM {fromWhere})";

        public override ValueTask DisposeAsync() => _source.DisposeAsync();
    }

    internal static string LikeToGlob(string like)
    {
        var glob = new StringBuilder(like.Length + 8);
        for (var i = 0; i < like.Length; i++)
        {
            var c = like[i];
            switch (c)
            {
                case '\\' when i + 1 < like.Length:
                    i++;
                    AppendLiteral(glob, like[i]);
                    break;
                case '%':
                    glob.Append('*');
                    break;
                case '_':
                    glob.Append('?');
                    break;
                default:
                    AppendLiteral(glob, c);
                    break;
            }
        }
        return glob.ToString();

        static void AppendLiteral(StringBuilder glob, char c)
        {
            if (c is '*' or '?' or '[' or ']')
            {
                glob.Append('[').Append(c).Append(']');
            }
            else
            {
                glob.Append(c);
            }
        }
    }
}
