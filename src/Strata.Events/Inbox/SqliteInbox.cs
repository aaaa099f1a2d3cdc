using Microsoft.Data.Sqlite;
using Strata.ServiceDefaults.Sql;

namespace Strata.Events.Inbox;

/// <summary>An inbox in a SQLite file (WAL; several processes may share it): one row per (group, event id), kept for
/// <paramref name="retention"/> (longer than any redelivery can come, so the table stays small). A batch is checked and
/// recorded with prepared statements of <see cref="Widths"/> ids each (a chunk takes the narrowest that fits, padded by
/// repetition, so a batch of 3 binds 4 ids, not 64): a statement per id, or one parsed per batch, cost 7-8 µs an event. Commits never wait on the disk: in WAL mode with
/// <c>synchronous=NORMAL</c> only a checkpoint syncs, and checkpoints are taken off the handlers' path (automatic ones
/// are off; a connection of the inbox's own runs a passive checkpoint every <see cref="CheckpointInterval"/>), since a
/// sync behind another process's heavy writes (a broker's file store) stalled every consumer for up to ~100 ms.</summary>
public sealed class SqliteInbox : IInbox, IDisposable
{
    private static readonly int[] Widths = [1, 4, 16, 64];
    private const int Width = 64;
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand[] _seen;
    private readonly SqliteCommand[] _record;
    private readonly TimeProvider _time;
    private readonly TimeSpan _retention;
    private readonly Lock _gate = new();
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;
    private readonly SqliteConnection _checkpointer;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _checkpoints;
    private int _disposed;

    public static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    /// <summary>The schema, oldest first (version 1 adopts a database created before migrations were recorded).</summary>
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "processed ids per group", """
            CREATE TABLE IF NOT EXISTS inbox (grp TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (grp, id)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS inbox_at ON inbox (at);
            """),
    ];

    public SqliteInbox(string path, TimeProvider time, TimeSpan retention)
    {
        // Checkpoints are this inbox's own (a timer, off the write path), not SQLite's automatic ones.
        _connection = SqliteDatabase.Open(path, "inbox", Migrations, busyTimeoutMs: 10_000, pragmas: "PRAGMA wal_autocheckpoint=0;");
        _time = time;
        _retention = retention;
        _seen = [.. Widths.Select(w => Prepare(w, $"SELECT id FROM inbox WHERE grp = $g AND id IN ({string.Join(',', Enumerable.Range(0, w).Select(i => "$i" + i))})"))];
        _record = [.. Widths.Select(w => Prepare(w, "INSERT OR IGNORE INTO inbox (grp, id, at) VALUES " + string.Join(',', Enumerable.Range(0, w).Select(i => $"($g, $i{i}, $at)"))))];
        foreach (var record in _record)
        {
            record.Parameters.Add("$at", SqliteType.Integer);
        }
        _checkpointer = new SqliteConnection(_connection.ConnectionString);
        _checkpointer.Open();
        var timer = new PeriodicTimer(CheckpointInterval, _time);
        _checkpoints = Task.Run(() => CheckpointAsync(timer));
    }

    private async Task CheckpointAsync(PeriodicTimer timer)
    {
        using var _ = timer;
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                Checkpoint("PASSIVE");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Checkpoint(string mode)
    {
        try
        {
            using var command = _checkpointer.CreateCommand();
            command.CommandText = $"PRAGMA wal_checkpoint({mode})";
            command.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // Busy or the disk is failing: the WAL keeps the data and the next checkpoint tries again.
        }
    }

    private SqliteCommand Prepare(int width, string sql)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.Add("$g", SqliteType.Text);
        for (var i = 0; i < width; i++)
        {
            command.Parameters.Add("$i" + i, SqliteType.Text);
        }
        command.Prepare();
        return command;
    }

    /// <summary>The narrowest of <paramref name="commands"/> (one per <see cref="Widths"/>) that fits the chunk, bound.</summary>
    private static SqliteCommand Bind(SqliteCommand[] commands, string group, string[] chunk)
    {
        var w = 0;
        while (Widths[w] < chunk.Length)
        {
            w++;
        }
        var command = commands[w];
        command.Parameters["$g"].Value = group;
        for (var i = 0; i < Widths[w]; i++)
        {
            command.Parameters[i + 1].Value = chunk[Math.Min(i, chunk.Length - 1)];
        }
        return command;
    }

    public ValueTask<IReadOnlySet<string>> SeenAsync(string group, IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return ValueTask.FromResult<IReadOnlySet<string>>(seen);
        }
        lock (_gate)
        {
            foreach (var chunk in ids.Chunk(Width))
            {
                using var reader = Bind(_seen, group, chunk).ExecuteReader();
                while (reader.Read())
                {
                    seen.Add(reader.GetString(0));
                }
            }
        }
        return ValueTask.FromResult<IReadOnlySet<string>>(seen);
    }

    public ValueTask RecordAsync(string group, IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default)
    {
        if (ids.Count == 0)
        {
            return ValueTask.CompletedTask;
        }
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            foreach (var chunk in ids.Chunk(Width))
            {
                var record = Bind(_record, group, chunk);
                record.Transaction = transaction;
                record.Parameters["$at"].Value = now.ToUnixTimeMilliseconds();
                record.ExecuteNonQuery();
                record.Transaction = null;
            }
            if (now - _lastPrune > TimeSpan.FromMinutes(1))
            {
                using var prune = _connection.CreateCommand();
                prune.Transaction = transaction;
                prune.CommandText = "DELETE FROM inbox WHERE at < $cutoff";
                prune.Parameters.AddWithValue("$cutoff", (now - _retention).ToUnixTimeMilliseconds());
                prune.ExecuteNonQuery();
                _lastPrune = now;
            }
            transaction.Commit();
        }
        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _stopping.Cancel();
        _checkpoints.GetAwaiter().GetResult();
        Checkpoint("TRUNCATE");
        _checkpointer.Dispose();
        _stopping.Dispose();
        lock (_gate)
        {
            foreach (var command in _seen.Concat(_record))
            {
                command.Dispose();
            }
            _connection.Dispose();
        }
    }
}
