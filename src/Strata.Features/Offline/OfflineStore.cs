using Strata.Contracts;
using System.Collections.Concurrent;
using System.Globalization;
using DuckDB.NET.Data;
using Strata.Contracts.Features;
using Strata.Features.Definitions;
using Strata.Features.Store;
using Strata.ServiceDefaults;

namespace Strata.Features.Offline;

/// <summary>The offline store: per view, immutable Parquet files under <c>offline/&lt;view&gt;/</c> with the join keys,
/// <c>event_timestamp</c>, <c>created_timestamp</c> and the view's stored columns. A file appears whole (written
/// beside, then renamed) or not at all; DuckDB reads a snapshot of a view's files as one table; small files (one per
/// push or streamed batch) are compacted into one past <see cref="CompactionThreshold"/>.</summary>
public sealed class OfflineStore
{
    public const string EventTimestamp = "event_timestamp";

    /// <summary>The optional column of a push (Feast's own push example sends it) giving each row's created time: with
    /// the event time equal, the row created later wins.</summary>
    public const string Created = "created";
    public const string CreatedTimestamp = "created_timestamp";

    /// <summary>More small files than this in a view are merged into one.</summary>
    public const int CompactionThreshold = 64;

    /// <summary>Files at least this large are left as they are by compaction.</summary>
    public const long SmallFileBytes = 32L << 20;

    private readonly IFeatureRepositorySource _repository;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, ViewState> _states = new(StringComparer.Ordinal);

    /// <param name="time">Names data files in the order they were written.</param>
    public OfflineStore(string root, IFeatureRepositorySource repository, TimeProvider? time = null)
    {
        Root = root;
        _repository = repository;
        _time = time ?? TimeProvider.System;
        Directory.CreateDirectory(root);
    }

    public string Root { get; }

    public string ViewDirectory(string view) => Path.Combine(Root, view);

    public bool HasData(EntityFeatureView view) => DataFiles(view.Name).Count > 0;

    /// <summary>The view's data files now (whole files only: staged, retired and compaction files are not data).</summary>
    public IReadOnlyList<string> DataFiles(string view)
    {
        var directory = ViewDirectory(view);
        return Directory.Exists(directory)
            ? [.. Directory.EnumerateFiles(directory, "*.parquet").Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal)]
            : [];
    }

    /// <summary>A consistent read of the view: its files as they are now, kept on disk (even if a compaction replaces
    /// them meanwhile) until the snapshot is disposed.</summary>
    public OfflineSnapshot Read(EntityFeatureView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var state = State(view.Name);
        lock (state)
        {
            var files = DataFiles(view.Name);
            state.Readers++;
            string sql;
            if (files.Count > 0)
            {
                sql = $"read_parquet([{string.Join(", ", files.Select(DuckSql.Literal))}])";
            }
            else
            {
                var columns = Columns(view).Select(c => $"CAST(NULL AS {c.Sql}) AS {DuckSql.Identifier(c.Name)}");
                sql = $"(SELECT {string.Join(", ", columns)} WHERE false)";
            }
            return new OfflineSnapshot(sql, () => Release(state));
        }
    }

    private ViewState State(string view) => _states.GetOrAdd(view, _ => new ViewState());

    private static void Release(ViewState state)
    {
        lock (state)
        {
            if (--state.Readers == 0)
            {
                foreach (var file in state.Retired)
                {
                    File.Delete(file);
                }
                state.Retired.Clear();
            }
        }
    }

    /// <summary>Merges the view's small files into one once there are more than <see cref="CompactionThreshold"/>
    /// (or, with <paramref name="force"/>, any two). Crash-safe: an intent file names the merged file and the files it
    /// replaces before anything is replaced; on start a finished compaction's leftovers are removed and an unfinished
    /// one is undone (<see cref="CleanStaging"/>). Readers holding a snapshot keep the replaced files until they finish.</summary>
    public bool Compact(EntityFeatureView view, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(view);
        var state = State(view.Name);
        lock (state.CompactionLock)
        {
            var small = DataFiles(view.Name).Where(f => new FileInfo(f).Length < SmallFileBytes).ToList();
            if (small.Count < 2 || (!force && small.Count <= CompactionThreshold))
            {
                return false;
            }
            var directory = ViewDirectory(view.Name);
            var name = string.Create(CultureInfo.InvariantCulture, $"{_time.GetUtcNow():yyyyMMddHHmmssfff}-{Guid.NewGuid():N}-compacted");
            var staging = Path.Combine(directory, $".{name}.parquet.tmp");
            var final = Path.Combine(directory, $"{name}.parquet");
            var intent = Path.Combine(directory, $".{name}.compaction");
            using (var db = new DuckDBConnection("Data Source=:memory:"))
            {
                db.Open();
                using var copy = db.CreateCommand();
                copy.CommandText = $"COPY (SELECT * FROM read_parquet([{string.Join(", ", small.Select(DuckSql.Literal))}])) TO {DuckSql.Literal(staging)} (FORMAT parquet)";
                try
                {
                    copy.ExecuteNonQuery();
                }
                catch
                {
                    DeleteQuietly(staging);
                    throw;
                }
            }
            File.WriteAllLines(intent, small.Select(f => Path.GetFileName(f)).Prepend(Path.GetFileName(final)));
            lock (state)
            {
                File.Move(staging, final);
                foreach (var file in small)
                {
                    if (state.Readers == 0)
                    {
                        File.Delete(file);
                    }
                    else
                    {
                        // Hidden from new readers at once, deleted when the last current reader is done.
                        var retired = Path.Combine(directory, "." + Path.GetFileName(file) + ".retired");
                        File.Move(file, retired);
                        state.Retired.Add(retired);
                    }
                }
            }
            File.Delete(intent);
            return true;
        }
    }

    private sealed class ViewState
    {
        public int Readers { get; set; }

        public List<string> Retired { get; } = [];

        public Lock CompactionLock { get; } = new();
    }

    /// <summary>Column names and DuckDB types of a view's offline table, in order.</summary>
    public IReadOnlyList<(string Name, string Sql)> Columns(EntityFeatureView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var entity = _repository.Current.Entity(view.Entity);
        return
        [
            .. entity.JoinKeys.Select(k => (k.Name, SqlType(k.Type))),
            (EventTimestamp, "TIMESTAMP"),
            (CreatedTimestamp, "TIMESTAMP"),
            .. view.StoredColumns.Select(c => (c.Name, SqlType(c.Type))),
        ];
    }

    public static string SqlType(LogicalType featureType) => featureType switch
    {
        LogicalType.Float64 => "DOUBLE",
        LogicalType.Int64 => "BIGINT",
        LogicalType.Bool => "BOOLEAN",
        LogicalType.String => "VARCHAR",
        _ => throw new ArgumentOutOfRangeException(nameof(featureType), featureType, "unknown feature type"),
    };

    /// <summary>Writes one Parquet file of rows (join key values per row + the row) for a view; returns its path. The
    /// file is staged and renamed, so a crash leaves either the whole file or none.</summary>
    public string Append(EntityFeatureView view, IReadOnlyList<object?[]> keys, IReadOnlyList<FeatureRow> rows)
    {
        using var appender = BeginAppend(view);
        appender.Add(keys, rows);
        return appender.Commit();
    }

    /// <summary>One Parquet file of a view written from rows added in parts (a large push, a part at a time, so the
    /// whole push never exists as rows in memory): the rows collect in an in-memory DuckDB table (columnar, native
    /// memory) and <see cref="OfflineAppend.Commit"/> writes the file, staged and renamed. Disposed uncommitted, it
    /// leaves nothing.</summary>
    public OfflineAppend BeginAppend(EntityFeatureView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var db = new DuckDBConnection("Data Source=:memory:");
        try
        {
            db.Open();
            using (var create = db.CreateCommand())
            {
                create.CommandText = $"CREATE TABLE rows ({string.Join(", ", Columns(view).Select(c => $"{DuckSql.Identifier(c.Name)} {c.Sql}"))})";
                create.ExecuteNonQuery();
            }
            return new OfflineAppend(this, view, db);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>Rows of one view on their way to one Parquet file (<see cref="BeginAppend"/>).</summary>
    public sealed class OfflineAppend : IDisposable
    {
        private readonly OfflineStore _store;
        private readonly EntityFeatureView _view;
        private readonly DuckDBConnection _db;
        private DuckDBAppender? _appender;

        internal OfflineAppend(OfflineStore store, EntityFeatureView view, DuckDBConnection db)
        {
            _store = store;
            _view = view;
            _db = db;
        }

        public void Add(IReadOnlyList<object?[]> keys, IReadOnlyList<FeatureRow> rows)
        {
            ArgumentNullException.ThrowIfNull(keys);
            ArgumentNullException.ThrowIfNull(rows);
            var appender = _appender ??= _db.CreateAppender("rows");
            for (var r = 0; r < rows.Count; r++)
            {
                var row = appender.CreateRow();
                foreach (var key in keys[r])
                {
                    OfflineStore.Append(row, key);
                }
                row.AppendValue(FeatureValues.ToDateTimeOffset(rows[r].EventTs).UtcDateTime);
                row.AppendValue(FeatureValues.ToDateTimeOffset(rows[r].CreatedTs).UtcDateTime);
                foreach (var value in rows[r].Values)
                {
                    OfflineStore.Append(row, value);
                }
                row.EndRow();
            }
        }

        /// <summary>Writes the file; returns its path.</summary>
        public string Commit()
        {
            _appender?.Dispose();
            _appender = null;
            var directory = _store.ViewDirectory(_view.Name);
            Directory.CreateDirectory(directory);
            var name = string.Create(CultureInfo.InvariantCulture, $"{_store._time.GetUtcNow():yyyyMMddHHmmssfff}-{Guid.NewGuid():N}");
            var staging = Path.Combine(directory, $".{name}.parquet.tmp");
            var final = Path.Combine(directory, $"{name}.parquet");
            using (var copy = _db.CreateCommand())
            {
                copy.CommandText = $"COPY rows TO {DuckSql.Literal(staging)} (FORMAT parquet)";
                try
                {
                    copy.ExecuteNonQuery();
                }
                catch
                {
                    // A write that failed (a full disk) leaves no half file behind.
                    DeleteQuietly(staging);
                    throw;
                }
            }
            File.Move(staging, final);
            _store.Compact(_view);
            return final;
        }

        public void Dispose()
        {
            _appender?.Dispose();
            _db.Dispose();
        }
    }

    private static void DeleteQuietly(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed at the next start with the other staging files.
        }
    }

    private static void Append(IDuckDBAppenderRow row, object? value)
    {
        switch (value)
        {
            case null: row.AppendNullValue(); break;
            case double d: row.AppendValue(d); break;
            case long l: row.AppendValue(l); break;
            case string s: row.AppendValue(s); break;
            case bool b: row.AppendValue(b); break;
            default: throw new ArgumentException($"unsupported value type {value.GetType().Name}", nameof(value));
        }
    }

    /// <summary>Recovers from a crash: finishes a compaction whose merged file is in place (removes the files it
    /// replaced), undoes one whose merged file is not, and removes half-written and retired files.</summary>
    public void CleanStaging()
    {
        foreach (var intent in Directory.EnumerateFiles(Root, ".*.compaction", SearchOption.AllDirectories))
        {
            var directory = Path.GetDirectoryName(intent)!;
            var lines = File.ReadAllLines(intent);
            if (lines.Length > 0 && File.Exists(Path.Combine(directory, lines[0])))
            {
                foreach (var replaced in lines.Skip(1))
                {
                    File.Delete(Path.Combine(directory, replaced));
                }
            }
            File.Delete(intent);
        }
        foreach (var file in Directory.EnumerateFiles(Root, "*.parquet.tmp", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Root, "*.retired", SearchOption.AllDirectories)))
        {
            File.Delete(file);
        }
    }
}

/// <summary>A leased, consistent read of a feature view's offline files; <see cref="Sql"/> is a DuckDB table
/// expression over exactly those files. Dispose when the query is done.</summary>
public sealed class OfflineSnapshot(string sql, Action release) : IDisposable
{
    private int _disposed;

    public string Sql { get; } = sql;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            release();
        }
    }
}
