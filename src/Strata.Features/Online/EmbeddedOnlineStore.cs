using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Strata.ServiceDefaults.Sql;
using Strata.Features.Definitions;
using Strata.Features.Store;

namespace Strata.Features.Online;

/// <summary>The embedded online store: every row in memory (reads never leave the process), written through to a SQLite
/// file (WAL) before a write returns, and loaded back when the process starts, so a restart loses nothing acknowledged.</summary>
public sealed class EmbeddedOnlineStore : IOnlineStore, IDisposable
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, FeatureRow>> _latest = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, EventLog>> _events = new(StringComparer.Ordinal);
    private readonly SqliteConnection _db;
    private readonly Lock _writeLock = new();

    public EmbeddedOnlineStore(string path, IFeatureRepositorySource repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        _db = SqliteDatabase.Open(path, "online", Migrations);
        Load(repository.Current);
    }

    /// <summary>The schema, oldest first (version 1 adopts a database created before migrations were recorded).</summary>
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "latest rows and recent events", """
            CREATE TABLE IF NOT EXISTS latest (view TEXT NOT NULL, entity_key TEXT NOT NULL, event_ts INTEGER NOT NULL, created_ts INTEGER NOT NULL,
              payload BLOB NOT NULL, PRIMARY KEY (view, entity_key)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, view TEXT NOT NULL, entity_key TEXT NOT NULL, event_ts INTEGER NOT NULL,
              created_ts INTEGER NOT NULL, payload BLOB NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS events_by_key ON events (view, entity_key, event_ts, created_ts);
            """),
    ];

    public string Kind => "embedded";

    public Task<int> WriteLatestAsync(EntityFeatureView view, IReadOnlyList<FeatureRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(rows);
        var map = _latest.GetOrAdd(view.Name, _ => new(StringComparer.Ordinal));
        var written = 0;
        lock (_writeLock)
        {
            // Only rows newer than what is held are written; the in-memory map is the source of "what is held".
            var newer = new Dictionary<string, FeatureRow>(StringComparer.Ordinal);
            foreach (var row in rows)
            {
                var current = newer.GetValueOrDefault(row.EntityKey) ?? map.GetValueOrDefault(row.EntityKey);
                if (row.Supersedes(current))
                {
                    newer[row.EntityKey] = row;
                }
            }
            using (var tx = _db.BeginTransaction())
            {
                using var upsert = _db.CreateCommand();
                upsert.Transaction = tx;
                upsert.CommandText = "INSERT INTO latest (view, entity_key, event_ts, created_ts, payload) VALUES ($v, $k, $e, $c, $p) " +
                    "ON CONFLICT (view, entity_key) DO UPDATE SET event_ts = excluded.event_ts, created_ts = excluded.created_ts, payload = excluded.payload";
                var v = upsert.Parameters.Add("$v", SqliteType.Text);
                var k = upsert.Parameters.Add("$k", SqliteType.Text);
                var e = upsert.Parameters.Add("$e", SqliteType.Integer);
                var c = upsert.Parameters.Add("$c", SqliteType.Integer);
                var p = upsert.Parameters.Add("$p", SqliteType.Blob);
                v.Value = view.Name;
                foreach (var row in newer.Values)
                {
                    k.Value = row.EntityKey;
                    e.Value = row.EventTs;
                    c.Value = row.CreatedTs;
                    p.Value = FeatureRowCodec.Encode(row);
                    upsert.ExecuteNonQuery();
                }
                tx.Commit();
            }
            foreach (var row in newer.Values)
            {
                map[row.EntityKey] = row;
                written++;
            }
        }
        return Task.FromResult(written);
    }

    public Task AppendEventsAsync(AggregateFeatureView view, IReadOnlyList<FeatureRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(rows);
        var logs = _events.GetOrAdd(view.Name, _ => new(StringComparer.Ordinal));
        var retention = FeatureValues.Micros(view.MaxWindow);
        lock (_writeLock)
        {
            var newest = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var row in rows)
            {
                var log = logs.GetValueOrDefault(row.EntityKey);
                var held = log?.Newest ?? long.MinValue;
                newest[row.EntityKey] = Math.Max(newest.GetValueOrDefault(row.EntityKey, held), row.EventTs);
            }
            using (var tx = _db.BeginTransaction())
            {
                using var insert = _db.CreateCommand();
                insert.Transaction = tx;
                // An event is identified by (key, event time, created time): appending it again changes nothing.
                insert.CommandText = "INSERT OR IGNORE INTO events (view, entity_key, event_ts, created_ts, payload) VALUES ($v, $k, $e, $c, $p)";
                var v = insert.Parameters.Add("$v", SqliteType.Text);
                var k = insert.Parameters.Add("$k", SqliteType.Text);
                var e = insert.Parameters.Add("$e", SqliteType.Integer);
                var c = insert.Parameters.Add("$c", SqliteType.Integer);
                var p = insert.Parameters.Add("$p", SqliteType.Blob);
                v.Value = view.Name;
                foreach (var row in rows)
                {
                    if (row.EventTs <= newest[row.EntityKey] - retention)
                    {
                        continue;
                    }
                    k.Value = row.EntityKey;
                    e.Value = row.EventTs;
                    c.Value = row.CreatedTs;
                    p.Value = FeatureRowCodec.Encode(row);
                    insert.ExecuteNonQuery();
                }
                using var trim = _db.CreateCommand();
                trim.Transaction = tx;
                trim.CommandText = "DELETE FROM events WHERE view = $v AND entity_key = $k AND event_ts <= $t";
                var tv = trim.Parameters.Add("$v", SqliteType.Text);
                var tk = trim.Parameters.Add("$k", SqliteType.Text);
                var tt = trim.Parameters.Add("$t", SqliteType.Integer);
                tv.Value = view.Name;
                foreach (var (key, newestTs) in newest)
                {
                    tk.Value = key;
                    tt.Value = newestTs - retention;
                    trim.ExecuteNonQuery();
                }
                tx.Commit();
            }
            foreach (var row in rows)
            {
                logs.GetOrAdd(row.EntityKey, _ => new EventLog()).Add(row, newest[row.EntityKey] - retention);
            }
        }
        return Task.CompletedTask;
    }

    public Task<OnlineReadResult[]> ReadAsync(IReadOnlyList<OnlineRead> reads, long asOf, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reads);
        var results = new OnlineReadResult[reads.Count];
        for (var r = 0; r < reads.Count; r++)
        {
            var read = reads[r];
            var keys = read.EntityKeys;
            if (read.View is AggregateFeatureView aggregate)
            {
                var logs = _events.GetValueOrDefault(aggregate.Name);
                var from = asOf - FeatureValues.Micros(aggregate.MaxWindow);
                var events = new IReadOnlyList<FeatureRow>[keys.Length];
                for (var i = 0; i < keys.Length; i++)
                {
                    events[i] = keys[i] is { } key && logs?.GetValueOrDefault(key) is { } log ? log.Between(from, asOf) : [];
                }
                results[r] = new OnlineReadResult(null, events);
            }
            else
            {
                var map = _latest.GetValueOrDefault(read.View.Name);
                var latest = new FeatureRow?[keys.Length];
                for (var i = 0; i < keys.Length; i++)
                {
                    latest[i] = keys[i] is { } key ? map?.GetValueOrDefault(key) : null;
                }
                results[r] = new OnlineReadResult(latest, null);
            }
        }
        return Task.FromResult(results);
    }

    public void Dispose()
    {
        _db.Dispose();
    }

    private void Load(FeatureRepository repository)
    {
        using var command = _db.CreateCommand();
        command.CommandText = "SELECT view, entity_key, payload FROM latest";
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                if (repository.FindView(reader.GetString(0)) is { } view)
                {
                    var key = reader.GetString(1);
                    _latest.GetOrAdd(view.Name, _ => new(StringComparer.Ordinal))[key] = FeatureRowCodec.Decode(key, (byte[])reader[2], view.StoredColumns);
                }
            }
        }
        command.CommandText = "SELECT view, entity_key, payload FROM events ORDER BY id";
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                if (repository.FindView(reader.GetString(0)) is AggregateFeatureView view)
                {
                    var key = reader.GetString(1);
                    _events.GetOrAdd(view.Name, _ => new(StringComparer.Ordinal)).GetOrAdd(key, _ => new EventLog())
                        .Add(FeatureRowCodec.Decode(key, (byte[])reader[2], view.StoredColumns), long.MinValue);
                }
            }
        }
    }

    private void Execute(string sql)
    {
        using var command = _db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>One entity's recent events, sorted by event time; readers take a snapshot under the lock.</summary>
    private sealed class EventLog
    {
        private readonly List<FeatureRow> _rows = [];
        private readonly Lock _lock = new();

        public long Newest
        {
            get
            {
                lock (_lock)
                {
                    return _rows.Count == 0 ? long.MinValue : _rows[^1].EventTs;
                }
            }
        }

        public void Add(FeatureRow row, long dropAtOrBefore)
        {
            lock (_lock)
            {
                if (row.EventTs > dropAtOrBefore)
                {
                    // Sorted by event time: find the place from the end (events mostly arrive in order), and skip the
                    // event if it is already there (same event and created time: a replay or re-materialisation).
                    var at = _rows.Count;
                    while (at > 0 && _rows[at - 1].EventTs > row.EventTs)
                    {
                        at--;
                    }
                    var duplicate = false;
                    for (var i = at - 1; i >= 0 && _rows[i].EventTs == row.EventTs; i--)
                    {
                        duplicate |= _rows[i].CreatedTs == row.CreatedTs;
                    }
                    if (!duplicate)
                    {
                        _rows.Insert(at, row);
                    }
                }
                var drop = 0;
                while (drop < _rows.Count && _rows[drop].EventTs <= dropAtOrBefore)
                {
                    drop++;
                }
                _rows.RemoveRange(0, drop);
            }
        }

        public List<FeatureRow> Between(long fromExclusive, long toInclusive)
        {
            lock (_lock)
            {
                var result = new List<FeatureRow>();
                foreach (var row in _rows)
                {
                    if (row.EventTs > fromExclusive && row.EventTs <= toInclusive)
                    {
                        result.Add(row);
                    }
                }
                return result;
            }
        }
    }
}
