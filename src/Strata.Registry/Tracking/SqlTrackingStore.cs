using Strata.Contracts.Errors;
using Strata.ServiceDefaults.Sql;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Strata.Contracts.Tracking;
using Strata.Registry.Storage;
using static Strata.ServiceDefaults.Sql.SqlDialect;

namespace Strata.Registry.Tracking;

/// <summary>Tracking data in SQL: SQLite (WAL, the embedded default) or PostgreSQL, one code path through
/// <see cref="SqlDialect"/>. Besides each metric's full history, the latest value per run and key (by step, then
/// timestamp, then value, as MLflow defines it) is kept in <c>latest_metrics</c>, indexed by key and value, so a search
/// filtering or sorting on a metric reads an index instead of the history.</summary>
public sealed class SqlTrackingStore(SqlDialect dialect, TimeProvider time) : ITrackingStore, IAsyncDisposable
{
    public const string DefaultExperimentName = "Default";
    private const int HistoryRowsPerStatement = 100;

    /// <summary>The embedded default: one SQLite file.</summary>
    public static SqlTrackingStore Sqlite(string databasePath) => new(SqlDialect.Sqlite(databasePath), TimeProvider.System);

    public SqlDialect Dialect => dialect;

    private Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => dialect.OpenAsync(cancellationToken);

    public ValueTask DisposeAsync() => dialect.DisposeAsync();

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var (text, bigint, real, clustered) = (dialect.Text, dialect.BigInt, dialect.Real, dialect.Clustered);
        await using var connection = await OpenAsync(cancellationToken);
        // The schema, oldest first; version 1 adopts a database created before migrations were recorded.
        await dialect.MigrateAsync(connection, "tracking", [new(1, "experiments, runs, params, tags, metrics", $"""
            CREATE TABLE IF NOT EXISTS experiments (
                experiment_id {bigint} PRIMARY KEY,
                name {text} NOT NULL UNIQUE,
                artifact_location {text} NOT NULL,
                lifecycle_stage {text} NOT NULL,
                creation_time {bigint} NOT NULL,
                last_update_time {bigint} NOT NULL);
            CREATE TABLE IF NOT EXISTS experiment_tags (
                experiment_id {bigint} NOT NULL REFERENCES experiments(experiment_id),
                key {text} NOT NULL,
                value {text} NOT NULL,
                PRIMARY KEY (experiment_id, key));
            CREATE TABLE IF NOT EXISTS runs (
                run_uuid {text} PRIMARY KEY,
                experiment_id {bigint} NOT NULL REFERENCES experiments(experiment_id),
                name {text} NOT NULL,
                user_id {text} NOT NULL,
                status {text} NOT NULL,
                start_time {bigint} NOT NULL,
                end_time {bigint},
                artifact_uri {text} NOT NULL,
                lifecycle_stage {text} NOT NULL);
            CREATE INDEX IF NOT EXISTS runs_experiment ON runs (experiment_id, start_time DESC);
            CREATE TABLE IF NOT EXISTS params (
                run_uuid {text} NOT NULL,
                key {text} NOT NULL,
                value {text} NOT NULL,
                PRIMARY KEY (run_uuid, key)){clustered};
            CREATE INDEX IF NOT EXISTS params_key_value ON params (key, value){dialect.Covering("run_uuid")};
            CREATE TABLE IF NOT EXISTS tags (
                run_uuid {text} NOT NULL,
                key {text} NOT NULL,
                value {text} NOT NULL,
                PRIMARY KEY (run_uuid, key)){clustered};
            CREATE INDEX IF NOT EXISTS tags_key_value ON tags (key, value){dialect.Covering("run_uuid")};
            CREATE TABLE IF NOT EXISTS metrics (
                run_uuid {text} NOT NULL,
                key {text} NOT NULL,
                timestamp {bigint} NOT NULL,
                step {bigint} NOT NULL,
                value {real} NOT NULL,
                is_nan INTEGER NOT NULL,
                PRIMARY KEY (run_uuid, key, timestamp, step, value, is_nan)){clustered};
            CREATE TABLE IF NOT EXISTS latest_metrics (
                run_uuid {text} NOT NULL,
                key {text} NOT NULL,
                value {real},
                is_nan INTEGER NOT NULL,
                timestamp {bigint} NOT NULL,
                step {bigint} NOT NULL,
                PRIMARY KEY (run_uuid, key)){clustered};
            CREATE INDEX IF NOT EXISTS latest_metrics_key_value ON latest_metrics (key, value){dialect.Covering("run_uuid")};
            """), new(2, "artifact files of the MLflow artifacts service; artifact roots as mlflow-artifacts:/ URIs", $"""
            CREATE TABLE IF NOT EXISTS artifact_files (
                path {text} PRIMARY KEY,
                sha256 {text} NOT NULL,
                size {bigint} NOT NULL,
                created {bigint} NOT NULL);
            UPDATE experiments SET artifact_location = 'mlflow-artifacts:/' || substr(artifact_location, 19) WHERE artifact_location LIKE 'strata-artifacts:/%';
            UPDATE runs SET artifact_uri = 'mlflow-artifacts:/' || substr(artifact_uri, 19) WHERE artifact_uri LIKE 'strata-artifacts:/%';
            """), new(3, "datasets a run read (runs/log-inputs)", $"""
            CREATE TABLE IF NOT EXISTS run_inputs (
                run_uuid {text} NOT NULL,
                name {text} NOT NULL,
                digest {text} NOT NULL,
                position {bigint} NOT NULL,
                input {text} NOT NULL,
                PRIMARY KEY (run_uuid, name, digest));
            """)], cancellationToken);
        // MLflow's default experiment: id 0, "Default".
        await using var seed = Command(connection, null,
            "INSERT INTO experiments VALUES (0, @name, 'mlflow-artifacts:/0', 'active', @now, @now) ON CONFLICT DO NOTHING",
            ("@name", DefaultExperimentName), ("@now", time.GetUtcNow().ToUnixTimeMilliseconds()));
        await seed.ExecuteNonQueryAsync(cancellationToken);
    }

    private static long ParseExperimentId(string experimentId) =>
        long.TryParse(experimentId, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new ResourceNotFoundException("experiment", experimentId);

    public async Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<KeyValue> tags, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // Serialised: the name check and the next id hold until the commit.
        await using var tx = await dialect.BeginSerializedAsync(connection, "experiments", cancellationToken);
        await using (var exists = Command(connection, tx, "SELECT 1 FROM experiments WHERE name = @name", ("@name", name)))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
            {
                throw new ResourceConflictException($"experiment '{name}' already exists");
            }
        }
        long id;
        await using (var insert = Command(connection, tx,
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) " +
            "VALUES ((SELECT COALESCE(MAX(experiment_id), 0) + 1 FROM experiments), @name, '', 'active', @now, @now) RETURNING experiment_id",
            ("@name", name), ("@now", now)))
        {
            id = Convert.ToInt64(await insert.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        await using (var location = Command(connection, tx, "UPDATE experiments SET artifact_location = @location WHERE experiment_id = @id",
            ("@location", string.IsNullOrEmpty(artifactLocation) ? $"{ArtifactScheme}{id}" : artifactLocation), ("@id", id)))
        {
            await location.ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var tag in tags)
        {
            await using var insertTag = Command(connection, tx, "INSERT INTO experiment_tags VALUES (@id, @key, @value) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value", ("@id", id), ("@key", tag.Key), ("@value", tag.Value));
            await insertTag.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return id.ToString(CultureInfo.InvariantCulture);
    }

    public async Task<Experiment?> GetExperimentAsync(string experimentId, CancellationToken cancellationToken)
    {
        if (!long.TryParse(experimentId, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return null;
        }
        await using var connection = await OpenAsync(cancellationToken);
        return (await ReadExperimentsAsync(connection, "WHERE e.experiment_id = @id", [("@id", id)], cancellationToken)).FirstOrDefault();
    }

    public async Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return (await ReadExperimentsAsync(connection, "WHERE e.name = @name", [("@name", name)], cancellationToken)).FirstOrDefault();
    }

    public async Task<Page<Experiment>> SearchExperimentsAsync(IReadOnlyList<SearchClause> filter, IReadOnlyList<SearchOrder> orderBy, ViewType view, int maxResults,
        int offset, CancellationToken cancellationToken)
    {
        var sql = new Sql();
        var where = new List<string> { Lifecycle("e.lifecycle_stage", view) };
        foreach (var clause in filter)
        {
            where.Add(clause.Entity == SearchEntity.Tag
                ? $"e.experiment_id IN (SELECT experiment_id FROM experiment_tags WHERE key = {sql.Add(clause.Key)} AND {Compare("value", clause, sql)})"
                : Compare("e." + clause.Key, clause, sql));
        }
        var order = new List<string>();
        var i = 0;
        foreach (var o in orderBy)
        {
            var direction = o.Descending ? "DESC" : "ASC";
            if (o.Entity == SearchEntity.Tag)
            {
                var column = $"(SELECT value FROM experiment_tags t{i} WHERE t{i}.experiment_id = e.experiment_id AND t{i}.key = {sql.Add(o.Key)})";
                order.Add($"{column} IS NULL, {column} {direction}");
                i++;
            }
            else
            {
                order.Add($"e.{o.Key} {direction}");
            }
        }
        // MLflow's default: newest first; the id breaks ties so pages never overlap.
        order.Add(orderBy.Count == 0 ? "e.creation_time DESC, e.experiment_id ASC" : "e.experiment_id ASC");
        var clauseText = $"WHERE {string.Join(" AND ", where)} ORDER BY {string.Join(", ", order)} LIMIT {maxResults + 1} OFFSET {offset}";
        await using var connection = await OpenAsync(cancellationToken);
        var found = await ReadExperimentsAsync(connection, clauseText, sql.Parameters, cancellationToken);
        return new Page<Experiment>([.. found.Take(maxResults)], found.Count > maxResults);
    }

    private static async Task<List<Experiment>> ReadExperimentsAsync(DbConnection connection, string clause, IReadOnlyList<(string, object)> parameters,
        CancellationToken cancellationToken)
    {
        var experiments = new List<(long Id, Experiment Experiment)>();
        await using (var command = Command(connection, null,
            $"SELECT e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, e.last_update_time FROM experiments e {clause}", [.. parameters]))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetInt64(0);
                experiments.Add((id, new Experiment(id.ToString(CultureInfo.InvariantCulture), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    reader.GetInt64(4), reader.GetInt64(5), null)));
            }
        }
        if (experiments.Count == 0)
        {
            return [];
        }
        var tags = new Dictionary<long, List<KeyValue>>();
        foreach (var chunk in experiments.Select(e => e.Id).Chunk(500))
        {
            await using var command = Command(connection, null,
                $"SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN ({string.Join(',', chunk)}) ORDER BY key");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                (tags.TryGetValue(reader.GetInt64(0), out var list) ? list : tags[reader.GetInt64(0)] = []).Add(new KeyValue(reader.GetString(1), reader.GetString(2)));
            }
        }
        return [.. experiments.Select(e => tags.TryGetValue(e.Id, out var t) ? e.Experiment with { Tags = t } : e.Experiment)];
    }

    public async Task RenameExperimentAsync(string experimentId, string newName, long now, CancellationToken cancellationToken)
    {
        var id = ParseExperimentId(experimentId);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await dialect.BeginSerializedAsync(connection, "experiments", cancellationToken);
        await using (var taken = Command(connection, tx, "SELECT experiment_id FROM experiments WHERE name = @name", ("@name", newName)))
        {
            if (await taken.ExecuteScalarAsync(cancellationToken) is { } other && Convert.ToInt64(other, CultureInfo.InvariantCulture) != id)
            {
                throw new ResourceConflictException($"experiment '{newName}' already exists");
            }
        }
        await using (var update = Command(connection, tx, "UPDATE experiments SET name = @name, last_update_time = @now WHERE experiment_id = @id",
            ("@name", newName), ("@now", now), ("@id", id)))
        {
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new ResourceNotFoundException("experiment", experimentId);
            }
        }
        await tx.CommitAsync(cancellationToken);
    }

    public async Task SetExperimentTagAsync(string experimentId, string key, string? value, CancellationToken cancellationToken)
    {
        var id = ParseExperimentId(experimentId);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var exists = Command(connection, tx, "SELECT lifecycle_stage FROM experiments WHERE experiment_id = @id", ("@id", id)))
        {
            var stage = await exists.ExecuteScalarAsync(cancellationToken) as string ?? throw new ResourceNotFoundException("experiment", experimentId);
            if (stage != "active")
            {
                throw new InputValidationException("experiment_id", $"experiment {experimentId} is {stage}; tags are set on active experiments");
            }
        }
        await using (var write = value is null
            ? Command(connection, tx, "DELETE FROM experiment_tags WHERE experiment_id = @id AND key = @key", ("@id", id), ("@key", key))
            : Command(connection, tx, "INSERT INTO experiment_tags VALUES (@id, @key, @value) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
                ("@id", id), ("@key", key), ("@value", value)))
        {
            if (await write.ExecuteNonQueryAsync(cancellationToken) == 0 && value is null)
            {
                throw new ResourceNotFoundException("experiment tag", $"{experimentId}/{key}");
            }
        }
        await tx.CommitAsync(cancellationToken);
    }

    public async Task SetExperimentLifecycleAsync(string experimentId, bool deleted, long now, CancellationToken cancellationToken)
    {
        var id = ParseExperimentId(experimentId);
        if (id == 0 && deleted)
        {
            throw new InputValidationException("experiment_id", "the default experiment '0' is reserved and cannot be deleted");
        }
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var (from, to) = deleted ? ("active", "deleted") : ("deleted", "active");
        await using (var stage = Command(connection, tx, "SELECT lifecycle_stage FROM experiments WHERE experiment_id = @id", ("@id", id)))
        {
            var current = await stage.ExecuteScalarAsync(cancellationToken) as string ?? throw new ResourceNotFoundException("experiment", experimentId);
            if (current != from)
            {
                throw new InputValidationException("experiment_id", $"experiment {experimentId} is {current}; it cannot be {(deleted ? "deleted" : "restored")}");
            }
        }
        await using (var update = Command(connection, tx, "UPDATE experiments SET lifecycle_stage = @to, last_update_time = @now WHERE experiment_id = @id",
            ("@to", to), ("@now", now), ("@id", id)))
        {
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        // As MLflow does: the experiment's runs follow it.
        await using (var runs = Command(connection, tx, "UPDATE runs SET lifecycle_stage = @to WHERE experiment_id = @id AND lifecycle_stage = @from",
            ("@to", to), ("@from", from), ("@id", id)))
        {
            await runs.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }

    public async Task SetRunLifecycleAsync(string runId, bool deleted, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var stage = Command(connection, tx,
            "SELECT r.lifecycle_stage, e.lifecycle_stage FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id WHERE r.run_uuid = @id", ("@id", runId)))
        await using (var reader = await stage.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new ResourceNotFoundException("run", runId);
            }
            if (!deleted && reader.GetString(1) != "active")
            {
                throw new InputValidationException("run_id", $"run {runId} cannot be restored while its experiment is deleted; restore the experiment first");
            }
        }
        await using (var update = Command(connection, tx, "UPDATE runs SET lifecycle_stage = @to WHERE run_uuid = @id", ("@to", deleted ? "deleted" : "active"), ("@id", runId)))
        {
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }

    public async Task<Run> CreateRunAsync(string experimentId, string userId, string runName, long startTime, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken)
    {
        var experiment = await GetExperimentAsync(experimentId, cancellationToken)
            ?? throw new ResourceNotFoundException("experiment", experimentId);
        if (experiment.LifecycleStage != "active")
        {
            throw new InputValidationException("experiment_id", $"experiment {experimentId} must be active to take new runs");
        }
        var runId = Guid.NewGuid().ToString("N");
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var insert = Command(connection, tx,
            "INSERT INTO runs VALUES (@id, @experiment, @name, @user, 'RUNNING', @start, NULL, @uri, 'active')",
            ("@id", runId), ("@experiment", ParseExperimentId(experimentId)), ("@name", runName), ("@user", userId), ("@start", startTime),
            ("@uri", $"{experiment.ArtifactLocation.TrimEnd('/')}/{runId}/artifacts")))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        // MLflow keeps the run name as a tag too.
        foreach (var tag in tags.Where(t => t.Key != RunNameTag).Append(new KeyValue(RunNameTag, runName)))
        {
            await using var insertTag = Command(connection, tx, "INSERT INTO tags VALUES (@id, @key, @value) ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value", ("@id", runId), ("@key", tag.Key), ("@value", tag.Value));
            await insertTag.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return (await GetRunAsync(runId, cancellationToken))!;
    }

    public const string RunNameTag = "mlflow.runName";

    /// <summary>Artifact roots are served by the MLflow artifacts service (<c>mlflow server --serve-artifacts</c>'s scheme),
    /// so MLflow's clients upload and download through Strata unchanged.</summary>
    public const string ArtifactScheme = "mlflow-artifacts:/";

    public async Task PutArtifactFileAsync(string path, string sha256, long size, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null,
            "INSERT INTO artifact_files VALUES (@path, @sha, @size, @now) ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, created = excluded.created",
            ("@path", path), ("@sha", sha256), ("@size", size), ("@now", now));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ArtifactFile>> ListArtifactFilesAsync(string prefix, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // Exactly the path, or under it as a folder (a prefix match on text, no LIKE wildcards to escape).
        await using var command = Command(connection, null,
            "SELECT path, sha256, size FROM artifact_files WHERE path = @path OR substr(path, 1, @length) = @folder ORDER BY path",
            ("@path", prefix), ("@folder", prefix + "/"), ("@length", prefix.Length + 1));
        var files = new List<ArtifactFile>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            files.Add(new ArtifactFile(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        }
        return files;
    }

    public async Task<int> DeleteArtifactFilesAsync(string prefix, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "DELETE FROM artifact_files WHERE path = @path OR substr(path, 1, @length) = @folder",
            ("@path", prefix), ("@folder", prefix + "/"), ("@length", prefix.Length + 1));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<RunInfo> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await RequireActiveRunAsync(connection, tx, runId, cancellationToken);
        await using (var update = Command(connection, tx,
            "UPDATE runs SET status = COALESCE(@status, status), end_time = COALESCE(@end, end_time), name = COALESCE(@name, name) WHERE run_uuid = @id",
            ("@status", (object?)status?.Name() ?? DBNull.Value), ("@end", (object?)endTime ?? DBNull.Value), ("@name", (object?)runName ?? DBNull.Value), ("@id", runId)))
        {
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        if (runName is not null)
        {
            await using var tag = Command(connection, tx, "INSERT INTO tags VALUES (@id, @key, @value) ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value", ("@id", runId), ("@key", RunNameTag), ("@value", runName));
            await tag.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return (await GetRunAsync(runId, cancellationToken))!.Info;
    }

    private static async Task RequireActiveRunAsync(DbConnection connection, DbTransaction tx, string runId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, tx, "SELECT lifecycle_stage FROM runs WHERE run_uuid = @id", ("@id", runId));
        var stage = await command.ExecuteScalarAsync(cancellationToken) as string
            ?? throw new ResourceNotFoundException("run", runId);
        if (stage != "active")
        {
            throw new InputValidationException("run_id", $"run {runId} must be active; it is {stage}");
        }
    }

    public async Task<Run?> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var sql = new Sql();
        var runs = await ReadRunsAsync(connection, $"runs r WHERE r.run_uuid = {sql.Add(runId)}", sql.Parameters, cancellationToken);
        if (runs.FirstOrDefault() is not { } run)
        {
            return null;
        }
        // A run's inputs come with runs/get (not with runs/search, which pages through many runs).
        var inputs = new List<DatasetInput>();
        await using var command = Command(connection, null, "SELECT input FROM run_inputs WHERE run_uuid = @id ORDER BY position", ("@id", runId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            inputs.Add(System.Text.Json.JsonSerializer.Deserialize<DatasetInput>(reader.GetString(0), Strata.Contracts.StrataJson.Options)!);
        }
        return run with { Inputs = new RunInputs(inputs.Count == 0 ? null : inputs) };
    }

    /// <summary>Records datasets a run read; a dataset it already has (same name and digest) is kept as it was.</summary>
    public async Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await RequireActiveRunAsync(connection, tx, runId, cancellationToken);
        long position;
        await using (var count = Command(connection, tx, "SELECT COUNT(*) FROM run_inputs WHERE run_uuid = @id", ("@id", runId)))
        {
            position = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        foreach (var input in inputs)
        {
            await using var insert = Command(connection, tx,
                "INSERT INTO run_inputs VALUES (@id, @name, @digest, @position, @input) ON CONFLICT (run_uuid, name, digest) DO NOTHING",
                ("@id", runId), ("@name", input.Dataset.Name), ("@digest", input.Dataset.Digest), ("@position", position++),
                ("@input", System.Text.Json.JsonSerializer.Serialize(input, Strata.Contracts.StrataJson.Options)));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }

    public async Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValue> parameters, IReadOnlyList<KeyValue> tags,
        CancellationToken cancellationToken)
    {
        try
        {
            await LogBatchOnceAsync(runId, metrics, parameters, tags, repeats: false, cancellationToken);
        }
        catch (DbException e) when (e.SqlState == UniqueViolation)
        {
            // The batch repeats history rows already stored (a client retrying): the whole transaction was rolled back;
            // again, skipping what is there.
            await LogBatchOnceAsync(runId, metrics, parameters, tags, repeats: true, cancellationToken);
        }
    }

    private const string UniqueViolation = "23505";

    private async Task LogBatchOnceAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValue> parameters, IReadOnlyList<KeyValue> tags,
        bool repeats, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await RequireActiveRunAsync(connection, tx, runId, cancellationToken);
        if (parameters.Count > 0)
        {
            // Insert-if-absent, then compare what is there: a concurrent writer of the same key cannot slip between.
            await using var insert = Command(connection, tx, "INSERT INTO params VALUES (@id, @key, @value) ON CONFLICT DO NOTHING",
                ("@id", runId), ("@key", ""), ("@value", ""));
            await using var existing = Command(connection, tx, "SELECT value FROM params WHERE run_uuid = @id AND key = @key", ("@id", runId), ("@key", ""));
            foreach (var param in parameters)
            {
                insert.Parameters[1].Value = param.Key;
                insert.Parameters[2].Value = param.Value;
                if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1)
                {
                    continue;
                }
                existing.Parameters[1].Value = param.Key;
                var old = await existing.ExecuteScalarAsync(cancellationToken) as string;
                if (old != param.Value)
                {
                    throw new InputValidationException("params",
                        $"param '{param.Key}' of run {runId} was logged as '{old}'; params cannot change, so '{param.Value}' is refused");
                }
            }
        }
        if (metrics.Count > 0)
        {
            // The latest value per key: the highest step, then timestamp, then value (MLflow's order); the batch's own
            // latest per key, each replacing the stored one only if it is later.
            var newest = metrics.GroupBy(m => m.Key, StringComparer.Ordinal)
                .Select(g => g.MaxBy(m => (m.Step, m.Timestamp, double.IsNaN(m.Value) ? double.MinValue : m.Value))!).ToList();
            if (dialect.HasArrays)
            {
                await WriteMetricArraysAsync(connection, tx, runId, metrics, newest, repeats, cancellationToken);
            }
            else
            {
                await WriteMetricRowsAsync(connection, tx, runId, metrics, newest, cancellationToken);
            }
        }
        if (tags.Count > 0)
        {
            await using var upsert = Command(connection, tx, "INSERT INTO tags VALUES (@id, @key, @value) ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value", ("@id", runId), ("@key", ""), ("@value", ""));
            foreach (var tag in tags)
            {
                upsert.Parameters[1].Value = tag.Key;
                upsert.Parameters[2].Value = tag.Value;
                await upsert.ExecuteNonQueryAsync(cancellationToken);
                if (tag.Key == RunNameTag)
                {
                    await using var rename = Command(connection, tx, "UPDATE runs SET name = @name WHERE run_uuid = @id", ("@name", tag.Value), ("@id", runId));
                    await rename.ExecuteNonQueryAsync(cancellationToken);
                }
            }
        }
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>The history in multi-row statements, one prepared statement reused for every full chunk (a batch of 1,000
    /// is 10 executions, not 1,000), NaN stored as 0 with is_nan; then the latest values, likewise.</summary>
    private static async Task WriteMetricRowsAsync(DbConnection connection, DbTransaction tx, string runId, IReadOnlyList<Metric> metrics, List<Metric> newest,
        CancellationToken cancellationToken)
    {
        DbCommand? full = null;
        try
        {
            foreach (var chunk in metrics.Chunk(HistoryRowsPerStatement))
            {
                var history = chunk.Length == HistoryRowsPerStatement ? full ??= HistoryCommand(connection, tx, runId, chunk.Length) : HistoryCommand(connection, tx, runId, chunk.Length);
                for (var i = 0; i < chunk.Length; i++)
                {
                    var metric = chunk[i];
                    var nan = double.IsNaN(metric.Value);
                    history.Parameters[(5 * i) + 1].Value = metric.Key;
                    history.Parameters[(5 * i) + 2].Value = metric.Timestamp;
                    history.Parameters[(5 * i) + 3].Value = metric.Step;
                    history.Parameters[(5 * i) + 4].Value = nan ? 0.0 : metric.Value;
                    history.Parameters[(5 * i) + 5].Value = nan ? 1 : 0;
                }
                await history.ExecuteNonQueryAsync(cancellationToken);
                if (history != full)
                {
                    await history.DisposeAsync();
                }
            }
        }
        finally
        {
            if (full is not null)
            {
                await full.DisposeAsync();
            }
        }
        foreach (var chunk in newest.Chunk(HistoryRowsPerStatement))
        {
            await using var latest = Command(connection, tx,
                "INSERT INTO latest_metrics VALUES " + string.Join(',', chunk.Select((_, i) => $"(@id, @k{i}, @v{i}, @n{i}, @t{i}, @s{i})")) + LatestUpsert,
                ("@id", runId));
            for (var i = 0; i < chunk.Length; i++)
            {
                var metric = chunk[i];
                var nan = double.IsNaN(metric.Value);
                Add(latest, $"@k{i}", metric.Key, DbType.String);
                Add(latest, $"@v{i}", nan ? null : metric.Value, DbType.Double); // typed even when a NaN's value is NULL
                Add(latest, $"@n{i}", nan ? 1 : 0, DbType.Int32);
                Add(latest, $"@t{i}", metric.Timestamp, DbType.Int64);
                Add(latest, $"@s{i}", metric.Step, DbType.Int64);
            }
            await latest.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>PostgreSQL: the whole batch as two statements over <c>unnest</c> of one array per column.</summary>
    /// <summary>PostgreSQL: the history as one INSERT over <c>unnest</c> arrays, then the latest values likewise. Rows the
    /// batch repeats are dropped here; rows already stored fail the primary key (<see cref="UniqueViolation"/>) and the
    /// batch is redone with <paramref name="repeats"/>: ON CONFLICT DO NOTHING, whose speculative insertion costs ~4 of
    /// ~10 ms per 1,000 rows, is paid only then.</summary>
    private static async Task WriteMetricArraysAsync(DbConnection connection, DbTransaction tx, string runId, IReadOnlyList<Metric> metrics, List<Metric> newest,
        bool repeats, CancellationToken cancellationToken)
    {
        metrics = [.. metrics.DistinctBy(m => (m.Key, m.Timestamp, m.Step, double.IsNaN(m.Value) ? 0.0 : m.Value, double.IsNaN(m.Value)))];
        await using (var history = Command(connection, tx,
            "INSERT INTO metrics SELECT @id, u.k, u.t, u.s, u.v, u.n FROM unnest(@keys, @ts, @steps, @values, @nans) AS u(k, t, s, v, n)" + (repeats ? " ON CONFLICT DO NOTHING" : ""),
            ("@id", runId), ("@keys", metrics.Select(m => m.Key).ToArray()), ("@ts", metrics.Select(m => m.Timestamp).ToArray()),
            ("@steps", metrics.Select(m => m.Step).ToArray()), ("@values", metrics.Select(m => double.IsNaN(m.Value) ? 0.0 : m.Value).ToArray()),
            ("@nans", metrics.Select(m => double.IsNaN(m.Value) ? 1 : 0).ToArray())))
        {
            await history.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var latest = Command(connection, tx,
            "INSERT INTO latest_metrics SELECT @id, u.k, u.v, u.n, u.t, u.s FROM unnest(@keys, @values, @nans, @ts, @steps) AS u(k, v, n, t, s)" + LatestUpsert,
            ("@id", runId), ("@keys", newest.Select(m => m.Key).ToArray()), ("@values", newest.Select(m => double.IsNaN(m.Value) ? (double?)null : m.Value).ToArray()),
            ("@nans", newest.Select(m => double.IsNaN(m.Value) ? 1 : 0).ToArray()), ("@ts", newest.Select(m => m.Timestamp).ToArray()),
            ("@steps", newest.Select(m => m.Step).ToArray()));
        await latest.ExecuteNonQueryAsync(cancellationToken);
    }

    private const string LatestUpsert = """

        ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
        WHERE excluded.step > latest_metrics.step
           OR (excluded.step = latest_metrics.step AND excluded.timestamp > latest_metrics.timestamp)
           OR (excluded.step = latest_metrics.step AND excluded.timestamp = latest_metrics.timestamp
               AND COALESCE(excluded.value, -1e308) > COALESCE(latest_metrics.value, -1e308))
        """;

    public async Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await RequireActiveRunAsync(connection, tx, runId, cancellationToken);
        await using var delete = Command(connection, tx, "DELETE FROM tags WHERE run_uuid = @id AND key = @key", ("@id", runId), ("@key", key));
        if (await delete.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new ResourceNotFoundException("tag", $"{key}' of run '{runId}");
        }
        await tx.CommitAsync(cancellationToken);
    }

    public async Task<Page<Run>> SearchRunsAsync(IReadOnlyList<string> experimentIds, IReadOnlyList<SearchClause> filter, IReadOnlyList<SearchOrder> orderBy,
        ViewType view, int maxResults, int offset, CancellationToken cancellationToken)
    {
        var sql = new Sql();
        var ids = experimentIds.Select(e => long.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1).Where(id => id >= 0).ToList();
        if (ids.Count == 0)
        {
            return new Page<Run>([], false);
        }
        var where = new List<string> { $"r.experiment_id IN ({string.Join(',', ids)})", Lifecycle("r.lifecycle_stage", view) };
        // Metric, param and tag clauses each read an index range ((key, value)); their intersection drives the query,
        // so a selective filter never walks every run of the experiment.
        var filters = new List<string>();
        foreach (var clause in filter)
        {
            var table = clause.Entity switch { SearchEntity.Metric => "latest_metrics", SearchEntity.Param => "params", SearchEntity.Tag => "tags", _ => null };
            if (table is null)
            {
                where.Add(Compare(RunColumn(clause.Key), clause, sql));
            }
            else if (dialect.JoinsFilters)
            {
                var alias = $"f{filters.Count}";
                filters.Add(filters.Count == 0 ? $"{table} {alias}" : $"{table} {alias} ON {alias}.run_uuid = f0.run_uuid");
                where.Add($"{alias}.key = {sql.Add(clause.Key)} AND {Compare($"{alias}.value", clause, sql)}");
            }
            else
            {
                filters.Add($"SELECT run_uuid FROM {table} WHERE key = {sql.Add(clause.Key)} AND {Compare("value", clause, sql)}");
            }
        }
        var joins = new StringBuilder();
        var order = new List<string>();
        for (var i = 0; i < orderBy.Count; i++)
        {
            var o = orderBy[i];
            var direction = o.Descending ? "DESC" : "ASC";
            var table = o.Entity switch { SearchEntity.Metric => "latest_metrics", SearchEntity.Param => "params", SearchEntity.Tag => "tags", _ => null };
            if (table is null)
            {
                order.Add($"{RunColumn(o.Key)} {direction}");
                continue;
            }
            joins.Append(CultureInfo.InvariantCulture, $" LEFT JOIN {table} o{i} ON o{i}.run_uuid = r.run_uuid AND o{i}.key = {sql.Add(o.Key)}");
            // Runs without the value come last either way, as in MLflow.
            order.Add($"o{i}.value IS NULL, o{i}.value {direction}");
        }
        order.Add(orderBy.Any(o => o.Entity == SearchEntity.Attribute && o.Key == "start_time") ? "r.run_uuid ASC" : "r.start_time DESC, r.run_uuid ASC");
        // The candidates drive, runs are looked up by key (see SqlDialect.JoinsFilters).
        var from = filters.Count == 0 ? "runs r"
            : dialect.JoinsFilters ? $"{string.Join(" JOIN ", filters)} JOIN runs r ON r.run_uuid = f0.run_uuid"
            : $"({string.Join(" INTERSECT ", filters)}) c CROSS JOIN runs r ON r.run_uuid = c.run_uuid";
        var clauseText = $"{from}{joins} WHERE {string.Join(" AND ", where)} ORDER BY {string.Join(", ", order)} LIMIT {maxResults + 1} OFFSET {offset}";
        await using var connection = await OpenAsync(cancellationToken);
        var runs = await ReadRunsAsync(connection, clauseText, sql.Parameters, cancellationToken);
        return new Page<Run>([.. runs.Take(maxResults)], runs.Count > maxResults);
    }

    private static string RunColumn(string attribute) => attribute switch
    {
        "run_id" => "r.run_uuid",
        "run_name" => "r.name",
        "status" or "user_id" or "artifact_uri" or "lifecycle_stage" or "start_time" or "end_time" => "r." + attribute,
        _ => throw new InputValidationException("order_by", $"'{attribute}' is not a run attribute"),
    };

    private static string Lifecycle(string column, ViewType view) => view switch
    {
        ViewType.ActiveOnly => $"{column} = 'active'",
        ViewType.DeletedOnly => $"{column} = 'deleted'",
        _ => $"{column} IN ('active', 'deleted')",
    };

    /// <summary>The SQL for <c>column op value</c>. LIKE is case-sensitive as in MLflow; ILIKE is not.</summary>
    private string Compare(string column, SearchClause clause, Sql sql) => clause.Op switch
    {
        "LIKE" => dialect.Like(column, (string)clause.Value, sql.Add),
        "ILIKE" => dialect.ILike(column, (string)clause.Value, sql.Add),
        "IN" => $"{column} IN ({string.Join(',', ((string[])clause.Value).Select(sql.Add))})",
        "NOT IN" => $"{column} NOT IN ({string.Join(',', ((string[])clause.Value).Select(sql.Add))})",
        _ => $"{column} {clause.Op} {sql.Add(clause.Value)}",
    };

    private async Task<List<Run>> ReadRunsAsync(DbConnection connection, string clause, IReadOnlyList<(string, object)> parameters, CancellationToken cancellationToken)
    {
        var infos = new List<RunInfo>();
        await using (var command = Command(connection, null,
            $"SELECT r.run_uuid, r.name, r.experiment_id, r.user_id, r.status, r.start_time, r.end_time, r.artifact_uri, r.lifecycle_stage FROM {clause}",
            [.. parameters]))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetString(0);
                infos.Add(new RunInfo(id, id, reader.GetString(1), reader.GetInt64(2).ToString(CultureInfo.InvariantCulture), reader.GetString(3), RunStatuses.Parse(reader.GetString(4)),
                    reader.GetInt64(5), reader.IsDBNull(6) ? null : reader.GetInt64(6), reader.GetString(7), reader.GetString(8)));
            }
        }
        if (infos.Count == 0)
        {
            return [];
        }
        var metrics = new Dictionary<string, List<Metric>>(StringComparer.Ordinal);
        var parametersOf = new Dictionary<string, List<KeyValue>>(StringComparer.Ordinal);
        var tags = new Dictionary<string, List<KeyValue>>(StringComparer.Ordinal);
        foreach (var chunk in infos.Select(i => i.RunId).Chunk(500))
        {
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = $"SELECT run_uuid, key, value, is_nan, timestamp, step FROM latest_metrics WHERE {dialect.InList(command, "run_uuid", chunk)} ORDER BY key";
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    Add(metrics, reader.GetString(0), new Metric(reader.GetString(1), reader.GetInt32(3) == 1 || reader.IsDBNull(2) ? double.NaN : reader.GetDouble(2), reader.GetInt64(4), reader.GetInt64(5)));
                }
            }
            foreach (var (table, into) in new[] { ("params", parametersOf), ("tags", tags) })
            {
                await using var command = connection.CreateCommand();
                command.CommandText = $"SELECT run_uuid, key, value FROM {table} WHERE {dialect.InList(command, "run_uuid", chunk)} ORDER BY key";
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    Add(into, reader.GetString(0), new KeyValue(reader.GetString(1), reader.GetString(2)));
                }
            }
        }
        return [.. infos.Select(info => new Run(info, new RunData(metrics.GetValueOrDefault(info.RunId), parametersOf.GetValueOrDefault(info.RunId), tags.GetValueOrDefault(info.RunId)), new RunInputs()))];

        static void Add<T>(Dictionary<string, List<T>> into, string key, T item)
        {
            if (!into.TryGetValue(key, out var list))
            {
                into[key] = list = [];
            }
            list.Add(item);
        }
    }

    public async Task<Page<Metric>> GetMetricHistoryAsync(string runId, string key, int maxResults, int offset, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using (var exists = Command(connection, null, "SELECT 1 FROM runs WHERE run_uuid = @id", ("@id", runId)))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                throw new ResourceNotFoundException("run", runId);
            }
        }
        var history = new List<Metric>();
        await using var command = Command(connection, null,
            $"SELECT value, is_nan, timestamp, step FROM metrics WHERE run_uuid = @id AND key = @key ORDER BY timestamp, step, value LIMIT {maxResults + 1} OFFSET {offset}",
            ("@id", runId), ("@key", key));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            history.Add(new Metric(key, reader.GetInt32(1) == 1 || reader.IsDBNull(0) ? double.NaN : reader.GetDouble(0), reader.GetInt64(2), reader.GetInt64(3)));
        }
        return new Page<Metric>([.. history.Take(maxResults)], history.Count > maxResults);
    }

    private static DbCommand HistoryCommand(DbConnection connection, DbTransaction tx, string runId, int rows)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        // SQLite only (PostgreSQL writes arrays): OR IGNORE, which measured faster here than ON CONFLICT DO NOTHING.
        command.CommandText = "INSERT OR IGNORE INTO metrics VALUES " + string.Join(',', Enumerable.Range(0, rows).Select(i => $"(@id, @k{i}, @t{i}, @s{i}, @v{i}, @n{i})"));
        Add(command, "@id", runId, DbType.String);
        for (var i = 0; i < rows; i++)
        {
            Add(command, $"@k{i}", string.Empty, DbType.String);
            Add(command, $"@t{i}", 0L, DbType.Int64);
            Add(command, $"@s{i}", 0L, DbType.Int64);
            Add(command, $"@v{i}", 0.0, DbType.Double);
            Add(command, $"@n{i}", 0, DbType.Int32);
        }
        return command;
    }

    /// <summary>Numbered parameters for generated SQL: values never enter the text.</summary>
    private sealed class Sql
    {
        private readonly List<(string, object)> _parameters = [];

        public IReadOnlyList<(string, object)> Parameters => _parameters;

        public string Add(object value)
        {
            var name = "@p" + _parameters.Count.ToString(CultureInfo.InvariantCulture);
            _parameters.Add((name, value));
            return name;
        }
    }
}
