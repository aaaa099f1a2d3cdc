using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Strata.ServiceDefaults.Sql;

/// <summary>SQLite has no tracing of its own (Npgsql has: its spans come from its <c>Npgsql</c> source): the embedded
/// stores' connections are wrapped so that each command is a client span of <c>Strata.Sql</c>, named by its operation
/// and database file, with the statement's text (parameters are never in it: every store binds values). Without a
/// listener (tracing off, or the request not sampled) no activity is created and the wrapper only forwards.</summary>
public sealed class TracedConnection(DbConnection inner, string database) : DbConnection
{
    public static readonly ActivitySource Source = new("Strata.Sql");

    public DbConnection Inner => inner;

    [AllowNull]
    public override string ConnectionString
    {
        get => inner.ConnectionString;
        set => inner.ConnectionString = value;
    }

    public override string Database => inner.Database;

    public override string DataSource => inner.DataSource;

    public override string ServerVersion => inner.ServerVersion;

    public override ConnectionState State => inner.State;

    public override void ChangeDatabase(string databaseName) => inner.ChangeDatabase(databaseName);

    public override void Close() => inner.Close();

    public override void Open() => inner.Open();

    public override Task OpenAsync(CancellationToken cancellationToken) => inner.OpenAsync(cancellationToken);

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => inner.BeginTransaction(isolationLevel);

    protected override async ValueTask<DbTransaction> BeginDbTransactionAsync(IsolationLevel isolationLevel, CancellationToken cancellationToken) =>
        await inner.BeginTransactionAsync(isolationLevel, cancellationToken);

    protected override DbCommand CreateDbCommand() => new TracedCommand(inner.CreateCommand(), this, database);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>A span for one command, or null when nobody records it.</summary>
    internal static Activity? Start(string text, string database)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        var trimmed = text.AsSpan().TrimStart();
        var end = trimmed.IndexOfAny(' ', '\n', '\t');
        var operation = (end < 0 ? trimmed : trimmed[..end]).ToString().ToUpperInvariant();
        var activity = Source.StartActivity($"{operation} {database}", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("db.system.name", "sqlite");
            activity.SetTag("db.namespace", database);
            activity.SetTag("db.operation.name", operation);
            activity.SetTag("db.query.text", text.Length <= 2048 ? text : text[..2048]);
        }
        return activity;
    }

    internal static void Fail(Activity? activity, Exception e)
    {
        activity?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
        activity?.SetTag("error.type", e.GetType().FullName);
    }
}

/// <summary>A command of a <see cref="TracedConnection"/>: every execution is a span.</summary>
internal sealed class TracedCommand(DbCommand inner, TracedConnection connection, string database) : DbCommand
{
    private TracedConnection? _connection = connection;

    [AllowNull]
    public override string CommandText
    {
        get => inner.CommandText;
        set => inner.CommandText = value;
    }

    public override int CommandTimeout
    {
        get => inner.CommandTimeout;
        set => inner.CommandTimeout = value;
    }

    public override CommandType CommandType
    {
        get => inner.CommandType;
        set => inner.CommandType = value;
    }

    public override bool DesignTimeVisible
    {
        get => inner.DesignTimeVisible;
        set => inner.DesignTimeVisible = value;
    }

    public override UpdateRowSource UpdatedRowSource
    {
        get => inner.UpdatedRowSource;
        set => inner.UpdatedRowSource = value;
    }

    protected override DbConnection? DbConnection
    {
        get => _connection;
        set
        {
            _connection = value as TracedConnection;
            inner.Connection = value is TracedConnection traced ? traced.Inner : value;
        }
    }

    protected override DbParameterCollection DbParameterCollection => inner.Parameters;

    protected override DbTransaction? DbTransaction
    {
        get => inner.Transaction;
        set => inner.Transaction = value;
    }

    public override void Cancel() => inner.Cancel();

    public override void Prepare() => inner.Prepare();

    protected override DbParameter CreateDbParameter() => inner.CreateParameter();

    public override int ExecuteNonQuery() => Traced(static c => c.ExecuteNonQuery());

    public override object? ExecuteScalar() => Traced(static c => c.ExecuteScalar());

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => Traced(c => c.ExecuteReader(behavior));

    public override Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken) => TracedAsync(c => c.ExecuteNonQueryAsync(cancellationToken));

    public override Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken) => TracedAsync(c => c.ExecuteScalarAsync(cancellationToken));

    protected override Task<DbDataReader> ExecuteDbDataReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken) =>
        TracedAsync(c => c.ExecuteReaderAsync(behavior, cancellationToken));

    /// <summary>Runs the inner command's execution inside its span (none without a listener).</summary>
    private T Traced<T>(Func<DbCommand, T> execute)
    {
        using var activity = TracedConnection.Start(inner.CommandText, database);
        try
        {
            return execute(inner);
        }
        catch (Exception e)
        {
            TracedConnection.Fail(activity, e);
            throw;
        }
    }

    private async Task<T> TracedAsync<T>(Func<DbCommand, Task<T>> execute)
    {
        using var activity = TracedConnection.Start(inner.CommandText, database);
        try
        {
            return await execute(inner);
        }
        catch (Exception e)
        {
            TracedConnection.Fail(activity, e);
            throw;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
