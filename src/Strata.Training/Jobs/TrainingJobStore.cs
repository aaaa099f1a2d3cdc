using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Strata.ServiceDefaults.Sql;
using Strata.Contracts;
using Strata.Contracts.Training;

namespace Strata.Training.Jobs;

/// <summary>Training jobs in SQLite (WAL) in the Training module's folder: state, progress, stage, request, result,
/// error and log of every job, so a job outlives the request that created it and the process that ran it.</summary>
public sealed class TrainingJobStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    public TrainingJobStore(string path)
    {
        _connection = SqliteDatabase.Open(path, "training-jobs", Migrations);
    }

    /// <summary>The schema, oldest first (version 1 adopts a database created before migrations were recorded).</summary>
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "jobs", """
            CREATE TABLE IF NOT EXISTS jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, state TEXT NOT NULL,
              progress REAL NOT NULL, stage TEXT, request TEXT NOT NULL, created INTEGER NOT NULL, started INTEGER, finished INTEGER,
              result TEXT, error TEXT, log TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, seq);
            """),
    ];

    public void Add(TrainingJob job)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT INTO jobs (id, state, progress, stage, request, created, log) VALUES ($id, $state, 0, $stage, $request, $created, $log)";
            command.Parameters.AddWithValue("$id", job.Id);
            command.Parameters.AddWithValue("$state", job.State);
            command.Parameters.AddWithValue("$stage", (object?)job.Stage ?? DBNull.Value);
            command.Parameters.AddWithValue("$request", JsonSerializer.Serialize(job.Request, StrataJson.Options));
            command.Parameters.AddWithValue("$created", job.CreatedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$log", JsonSerializer.Serialize(job.Log, StrataJson.Options));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Writes the job's mutable fields; with <paramref name="onlyIfState"/>, only when the stored state is that
    /// one (a compare-and-set: a cancelled queued job is not started, a finished one is not cancelled). True when written.</summary>
    public bool Update(TrainingJob job, string? onlyIfState = null)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "UPDATE jobs SET state = $state, progress = $progress, stage = $stage, started = $started, finished = $finished, " +
                "result = $result, error = $error, log = $log WHERE id = $id" + (onlyIfState is null ? string.Empty : " AND state = $expected");
            command.Parameters.AddWithValue("$id", job.Id);
            command.Parameters.AddWithValue("$state", job.State);
            command.Parameters.AddWithValue("$progress", job.Progress);
            command.Parameters.AddWithValue("$stage", (object?)job.Stage ?? DBNull.Value);
            command.Parameters.AddWithValue("$started", (object?)job.StartedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
            command.Parameters.AddWithValue("$finished", (object?)job.FinishedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
            command.Parameters.AddWithValue("$result", job.Result is null ? DBNull.Value : JsonSerializer.Serialize(job.Result, StrataJson.Options));
            command.Parameters.AddWithValue("$error", (object?)job.Error ?? DBNull.Value);
            command.Parameters.AddWithValue("$log", JsonSerializer.Serialize(job.Log, StrataJson.Options));
            if (onlyIfState is not null)
            {
                command.Parameters.AddWithValue("$expected", onlyIfState);
            }
            return command.ExecuteNonQuery() == 1;
        }
    }

    public TrainingJob? Get(string id)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, state, progress, stage, request, created, started, finished, result, error, log FROM jobs WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            using var reader = command.ExecuteReader();
            return reader.Read() ? Read(reader) : null;
        }
    }

    /// <summary>Newest first; optionally only the jobs in one state.</summary>
    public List<TrainingJob> List(string? state, int limit)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, state, progress, stage, request, created, started, finished, result, error, log FROM jobs" +
                (state is null ? string.Empty : " WHERE state = $state") + " ORDER BY seq DESC LIMIT $limit";
            if (state is not null)
            {
                command.Parameters.AddWithValue("$state", state);
            }
            command.Parameters.AddWithValue("$limit", limit);
            using var reader = command.ExecuteReader();
            var jobs = new List<TrainingJob>();
            while (reader.Read())
            {
                jobs.Add(Read(reader));
            }
            return jobs;
        }
    }

    /// <summary>Oldest first: the queue to resume after a restart.</summary>
    public List<TrainingJob> Queued()
    {
        var queued = List(TrainingJobStates.Queued, int.MaxValue);
        queued.Reverse();
        return queued;
    }

    private static TrainingJob Read(SqliteDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetDouble(2),
        r.IsDBNull(3) ? null : r.GetString(3),
        JsonSerializer.Deserialize<TrainingRequest>(r.GetString(4), StrataJson.Options)!,
        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
        r.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)),
        r.IsDBNull(7) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(7)),
        r.IsDBNull(8) ? null : JsonSerializer.Deserialize<TrainingResult>(r.GetString(8), StrataJson.Options),
        r.IsDBNull(9) ? null : r.GetString(9),
        JsonSerializer.Deserialize<List<string>>(r.GetString(10), StrataJson.Options) ?? []);

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

    internal static string Stamp(DateTimeOffset at) => at.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
}
