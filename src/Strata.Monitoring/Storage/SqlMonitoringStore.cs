using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Strata.Contracts.Events;
using Strata.Monitoring.Drift;
using Strata.ServiceDefaults.Sql;

namespace Strata.Monitoring.Storage;

/// <summary>One logged prediction joined to its outcome, if any has come.</summary>
public readonly record struct JoinedPrediction(string Version, string? Arm, double Prediction, double LatencyMs, double? Label, double? Value);

/// <summary>The prediction log (the predictions that carry a request id), the failures of routed requests and the
/// outcomes fed back, in SQL (SQLite embedded, PostgreSQL scaled out). Writes are idempotent: a redelivered prediction is
/// kept once, a later outcome for the same prediction replaces the earlier.</summary>
public sealed class SqlMonitoringStore(SqlDialect dialect) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => dialect.DisposeAsync();

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        var (text, bigint, real) = (dialect.Text, dialect.BigInt, dialect.Real);
        await dialect.MigrateAsync(connection, "monitoring",
        [
            new(1, "predictions, failures, outcomes", $"""
                CREATE TABLE predictions (
                    request_id {text} NOT NULL,
                    row_index INTEGER NOT NULL,
                    model {text} NOT NULL,
                    version {text} NOT NULL,
                    arm {text},
                    policy_version INTEGER,
                    prediction {real} NOT NULL,
                    latency_ms {real} NOT NULL,
                    time_ms {bigint} NOT NULL,
                    PRIMARY KEY (request_id, row_index));
                CREATE INDEX predictions_model_time ON predictions (model, time_ms);
                CREATE TABLE failures (
                    request_id {text} NOT NULL PRIMARY KEY,
                    model {text} NOT NULL,
                    version {text} NOT NULL,
                    arm {text},
                    status INTEGER NOT NULL,
                    reason {text} NOT NULL,
                    latency_ms {real} NOT NULL,
                    time_ms {bigint} NOT NULL);
                CREATE INDEX failures_model_time ON failures (model, time_ms);
                CREATE TABLE outcomes (
                    request_id {text} NOT NULL,
                    row_index INTEGER NOT NULL,
                    label {real},
                    value {real},
                    time_ms {bigint} NOT NULL,
                    source {text},
                    PRIMARY KEY (request_id, row_index));
                """),
            // The features the model saw, as logged (JSON object of name to value): what drift compares with training.
            // Sampled predictions without a request id are kept too (drift needs them; no outcome can join them): keyed by
            // their event's id, marked not joinable, kept for the drift retention only.
            new(2, "features of logged predictions", $"""
                ALTER TABLE predictions ADD COLUMN features {text};
                ALTER TABLE predictions ADD COLUMN joinable INTEGER;
                """),
        ], cancellationToken);
    }

    /// <summary>Records predictions that carry a request id (what outcomes join to).</summary>
    public Task AddPredictionsAsync(IReadOnlyList<PredictionMadeEvent> predictions, CancellationToken cancellationToken) =>
        AddPredictionsAsync([.. predictions.Where(p => p.RequestId is not null).Select(p => (p.RequestId!, p))], cancellationToken);

    /// <summary>Records predictions keyed by their request id, or, for one without (a sampled unrouted prediction), by
    /// its event's id (<paramref name="predictions"/>' first item), which no outcome joins.</summary>
    public Task AddPredictionsAsync(IReadOnlyList<(string EventId, PredictionMadeEvent Prediction)> predictions, CancellationToken cancellationToken) =>
        WriteAsync(predictions, """
            INSERT INTO predictions (request_id, row_index, model, version, arm, policy_version, prediction, latency_ms, time_ms, features, joinable)
            VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10) ON CONFLICT DO NOTHING
            """, e => [e.Prediction.RequestId ?? UnjoinablePrefix + e.EventId, e.Prediction.Row ?? 0, e.Prediction.Model, e.Prediction.ModelVersion, e.Prediction.Arm,
                e.Prediction.PolicyVersion, e.Prediction.Prediction, e.Prediction.LatencyMs, e.Prediction.Time.ToUnixTimeMilliseconds(),
                e.Prediction.Features.Count == 0 ? null : JsonSerializer.Serialize(e.Prediction.Features, FeatureJson), e.Prediction.RequestId is null ? 0 : 1],
            cancellationToken);

    /// <summary>Keys of predictions without a request id: a space never starts a request id (visible ASCII only).</summary>
    private const string UnjoinablePrefix = " event:";

    /// <summary>Feature values may be NaN (missing): written as the literal the reader accepts back.</summary>
    private static readonly JsonSerializerOptions FeatureJson = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The most recent <paramref name="limit"/> logged predictions of a version in [from, to): score and features.</summary>
    public async Task<List<ServedRow>> ServedAsync(string model, string version, DateTimeOffset from, DateTimeOffset to, int limit,
        CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var command = SqlDialect.Command(connection, null, """
            SELECT prediction, features FROM predictions
            WHERE model = @model AND version = @version AND time_ms >= @from AND time_ms < @to ORDER BY time_ms DESC LIMIT @limit
            """, [.. Parameters(model, from, to, version), ("@limit", limit)]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<ServedRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new ServedRow(reader.GetDouble(0),
                reader.IsDBNull(1) ? null : JsonSerializer.Deserialize<Dictionary<string, double>>(reader.GetString(1), FeatureJson)));
        }
        return rows;
    }

    /// <summary>The versions of a model with logged predictions in [from, to).</summary>
    public async Task<List<string>> VersionsAsync(string model, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var command = SqlDialect.Command(connection, null, """
            SELECT DISTINCT version FROM predictions WHERE model = @model AND time_ms >= @from AND time_ms < @to
            """, Parameters(model, from, to, null));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var versions = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(reader.GetString(0));
        }
        return versions;
    }

    /// <summary>The models with logged predictions in [from, to), each with its versions.</summary>
    public async Task<List<(string Model, string Version)>> ActiveAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var command = SqlDialect.Command(connection, null, """
            SELECT DISTINCT model, version FROM predictions WHERE time_ms >= @from AND time_ms < @to
            """, ("@from", from.ToUnixTimeMilliseconds()), ("@to", to.ToUnixTimeMilliseconds()));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var active = new List<(string, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            active.Add((reader.GetString(0), reader.GetString(1)));
        }
        return active;
    }

    public Task AddFailuresAsync(IReadOnlyList<PredictionFailedEvent> failures, CancellationToken cancellationToken) =>
        WriteAsync(failures, """
            INSERT INTO failures (request_id, model, version, arm, status, reason, latency_ms, time_ms)
            VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7) ON CONFLICT DO NOTHING
            """, f => [f.RequestId, f.Model, f.ModelVersion, f.Arm, f.Status, f.Reason, f.LatencyMs, f.Time.ToUnixTimeMilliseconds()], cancellationToken);

    public Task AddOutcomesAsync(IReadOnlyList<PredictionFeedbackEvent> outcomes, CancellationToken cancellationToken) =>
        WriteAsync(outcomes.Reverse().DistinctBy(o => (o.RequestId, o.Row)).Reverse(), """
            INSERT INTO outcomes (request_id, row_index, label, value, time_ms, source) VALUES (@p0, @p1, @p2, @p3, @p4, @p5)
            ON CONFLICT (request_id, row_index) DO UPDATE SET label = excluded.label, value = excluded.value, time_ms = excluded.time_ms, source = excluded.source
            """, o => [o.RequestId, o.Row, o.Label, o.Value, o.Time.ToUnixTimeMilliseconds(), o.Source], cancellationToken);

    /// <summary>The model's logged predictions made in [from, to) (of one version, or all), each with its outcome if one came.</summary>
    public async Task<List<JoinedPrediction>> PredictionsAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var command = SqlDialect.Command(connection, null, $"""
            SELECT p.version, p.arm, p.prediction, p.latency_ms, o.label, o.value
            FROM predictions p LEFT JOIN outcomes o ON o.request_id = p.request_id AND o.row_index = p.row_index
            WHERE p.model = @model AND p.time_ms >= @from AND p.time_ms < @to AND COALESCE(p.joinable, 1) = 1{(version is null ? "" : " AND p.version = @version")}
            """, Parameters(model, from, to, version));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<JoinedPrediction>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new JoinedPrediction(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetDouble(2), reader.GetDouble(3),
                reader.IsDBNull(4) ? null : reader.GetDouble(4), reader.IsDBNull(5) ? null : reader.GetDouble(5)));
        }
        return rows;
    }

    /// <summary>Failures of the model's routed requests in [from, to), per version.</summary>
    public async Task<Dictionary<string, long>> FailuresAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var command = SqlDialect.Command(connection, null, $"""
            SELECT version, COUNT(*) FROM failures
            WHERE model = @model AND time_ms >= @from AND time_ms < @to{(version is null ? "" : " AND version = @version")} GROUP BY version
            """, Parameters(model, from, to, version));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        }
        return counts;
    }

    /// <summary>Deletes what was recorded before <paramref name="before"/> (retention); returns the rows removed.</summary>
    public async Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken, DateTimeOffset? unjoinableBefore = null)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var removed = 0;
        if (unjoinableBefore is { } cut)
        {
            await using var drift = SqlDialect.Command(connection, tx, "DELETE FROM predictions WHERE joinable = 0 AND time_ms < @before",
                ("@before", cut.ToUnixTimeMilliseconds()));
            removed += await drift.ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var table in new[] { "predictions", "failures", "outcomes" })
        {
            await using var command = SqlDialect.Command(connection, tx, $"DELETE FROM {table} WHERE time_ms < @before", ("@before", before.ToUnixTimeMilliseconds()));
            removed += await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return removed;
    }

    private static (string, object?)[] Parameters(string model, DateTimeOffset from, DateTimeOffset to, string? version) =>
        version is null
            ? [("@model", model), ("@from", from.ToUnixTimeMilliseconds()), ("@to", to.ToUnixTimeMilliseconds())]
            : [("@model", model), ("@from", from.ToUnixTimeMilliseconds()), ("@to", to.ToUnixTimeMilliseconds()), ("@version", version)];

    private async Task WriteAsync<T>(IEnumerable<T> items, string sql, Func<T, object?[]> values, CancellationToken cancellationToken)
    {
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = SqlDialect.Command(connection, tx, sql);
        DbParameter[]? parameters = null;
        foreach (var item in items)
        {
            var row = values(item);
            if (parameters is null)
            {
                parameters = new DbParameter[row.Length];
                for (var i = 0; i < row.Length; i++)
                {
                    parameters[i] = SqlDialect.Add(command, $"@p{i}", row[i]);
                }
            }
            for (var i = 0; i < row.Length; i++)
            {
                parameters[i].Value = row[i] ?? DBNull.Value;
            }
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }
}
