using Microsoft.Data.Sqlite;

namespace Strata.Events.Inbox;

/// <summary>An inbox in a SQLite file (WAL): one row per (group, event id), kept for <paramref name="retention"/>
/// (longer than any redelivery can come, so the table stays small). Checks and records are one statement per batch.</summary>
public sealed class SqliteInbox : IInbox, IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly TimeProvider _time;
    private readonly TimeSpan _retention;
    private readonly Lock _gate = new();
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;

    public SqliteInbox(string path, TimeProvider time, TimeSpan retention)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        _time = time;
        _retention = retention;
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; " +
                "CREATE TABLE IF NOT EXISTS inbox (grp TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (grp, id)) WITHOUT ROWID; " +
                "CREATE INDEX IF NOT EXISTS inbox_at ON inbox (at);");
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
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT id FROM inbox WHERE grp = $g AND id IN ({string.Join(',', ids.Select((_, i) => "$i" + i))})";
            command.Parameters.AddWithValue("$g", group);
            var n = 0;
            foreach (var id in ids)
            {
                command.Parameters.AddWithValue("$i" + n++, id);
            }
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                seen.Add(reader.GetString(0));
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
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT OR IGNORE INTO inbox (grp, id, at) VALUES ($g, $id, $at)";
            var g = command.Parameters.Add("$g", SqliteType.Text);
            var id = command.Parameters.Add("$id", SqliteType.Text);
            command.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
            g.Value = group;
            foreach (var value in ids)
            {
                id.Value = value;
                command.ExecuteNonQuery();
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

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _connection.Dispose();
        }
    }
}
