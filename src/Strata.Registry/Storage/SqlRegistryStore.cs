using System.Globalization;
using System.Text.Json;
using System.Data.Common;
using Strata.Contracts;
using Strata.Contracts.Events;
using Strata.Contracts.Registry;
using Strata.ServiceDefaults.Sql;

namespace Strata.Registry.Storage;

/// <summary>Registry metadata in SQL: SQLite (WAL, the embedded default) or PostgreSQL, one code path through
/// <see cref="SqlDialect"/>. Numbering and alias moves are serialised per table; each change and its outbox event
/// commit together.</summary>
public sealed class SqlRegistryStore(SqlDialect dialect) : IRegistryStore, IAsyncDisposable
{
    /// <summary>The embedded default: one SQLite file.</summary>
    public static SqlRegistryStore Sqlite(string databasePath) => new(SqlDialect.Sqlite(databasePath));

    public SqlDialect Dialect => dialect;

    public ValueTask DisposeAsync() => dialect.DisposeAsync();

    private string VersionColumns =>
        "v.model, v.version, v.created_at, v.artifact_sha256, v.artifact_size, v.format, v.metrics, v.params, " +
        "v.dataset_version, v.feature_view, v.feature_view_version, v.feature_names, v.description, " +
        dialect.SortedList("alias", "model_aliases a WHERE a.model = v.model AND a.version = v.version") + ", v.run_id";

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await dialect.MigrateAsync(connection, "registry", Migrations, cancellationToken);
    }

    /// <summary>The schema, oldest first. Version 1 adopts a database created before migrations were recorded (the
    /// columns added since the first release are added when missing); each later change is a migration of its own.</summary>
    private IReadOnlyList<Migration> Migrations
    {
        get
        {
            var (text, bigint) = (dialect.Text, dialect.BigInt);
            return
            [
                new(1, "models, versions, aliases, tags, outbox", $"""
                    CREATE TABLE IF NOT EXISTS registered_models (
                        name {text} PRIMARY KEY,
                        created_at {text} NOT NULL);
                    CREATE TABLE IF NOT EXISTS model_versions (
                        model {text} NOT NULL REFERENCES registered_models(name),
                        version INTEGER NOT NULL,
                        created_at {text} NOT NULL,
                        artifact_sha256 {text} NOT NULL,
                        artifact_size {bigint} NOT NULL,
                        format {text} NOT NULL,
                        metrics {text} NOT NULL,
                        params {text} NOT NULL,
                        dataset_version {text},
                        feature_view {text},
                        feature_view_version {text},
                        feature_names {text} NOT NULL,
                        description {text},
                        request_id {text},
                        run_id {text},
                        PRIMARY KEY (model, version));
                    CREATE TABLE IF NOT EXISTS model_aliases (
                        model {text} NOT NULL,
                        alias {text} NOT NULL,
                        version INTEGER NOT NULL,
                        PRIMARY KEY (model, alias),
                        FOREIGN KEY (model, version) REFERENCES model_versions(model, version));
                    CREATE TABLE IF NOT EXISTS model_tags (
                        model {text} NOT NULL REFERENCES registered_models(name),
                        version INTEGER NOT NULL,
                        key {text} NOT NULL,
                        value {text} NOT NULL,
                        PRIMARY KEY (model, version, key));
                    CREATE TABLE IF NOT EXISTS outbox (
                        seq {dialect.SequenceKey},
                        id {text} NOT NULL UNIQUE,
                        topic {text} NOT NULL,
                        key {text} NOT NULL,
                        envelope {dialect.Bytes} NOT NULL);
                    """, async (connection, tx, ct) =>
                {
                    // The idempotency key of a registration and the run that produced the version (lineage).
                    await dialect.AddColumnIfMissingAsync(connection, tx, "model_versions", "request_id", text, ct);
                    await dialect.AddColumnIfMissingAsync(connection, tx, "model_versions", "run_id", text, ct);
                    await ExecuteAsync(connection, tx,
                        "CREATE UNIQUE INDEX IF NOT EXISTS model_versions_request ON model_versions(model, request_id) WHERE request_id IS NOT NULL", ct);
                }),
                new(2, "registered models' descriptions (MLflow's registered-models/update)", $"ALTER TABLE registered_models ADD COLUMN description {text};"),
                new(3, "traffic policies, every version kept", $"""
                    CREATE TABLE traffic_policies (
                        model {text} NOT NULL REFERENCES registered_models(name),
                        version INTEGER NOT NULL,
                        created_at {text} NOT NULL,
                        policy {text},
                        PRIMARY KEY (model, version));
                    """),
                new(4, "rollouts and their history", $"""
                    CREATE TABLE rollouts (
                        id {text} PRIMARY KEY,
                        model {text} NOT NULL,
                        candidate INTEGER NOT NULL,
                        baseline INTEGER NOT NULL,
                        spec {text} NOT NULL,
                        status {text} NOT NULL,
                        step INTEGER NOT NULL,
                        weight INTEGER NOT NULL,
                        created_at {text} NOT NULL,
                        step_started_at {text} NOT NULL,
                        updated_at {text} NOT NULL,
                        reason {text});
                    CREATE INDEX rollouts_model ON rollouts (model, status);
                    CREATE TABLE rollout_history (
                        rollout_id {text} NOT NULL REFERENCES rollouts(id),
                        seq INTEGER NOT NULL,
                        time {text} NOT NULL,
                        kind {text} NOT NULL,
                        step INTEGER NOT NULL,
                        weight INTEGER NOT NULL,
                        detail {text} NOT NULL,
                        PRIMARY KEY (rollout_id, seq));
                    """),
                // Not "experiments": MLflow's tracking store has that table, and on PostgreSQL both stores share a database.
                new(5, "A/B experiments", $"""
                    CREATE TABLE ab_experiments (
                        id {text} PRIMARY KEY,
                        model {text} NOT NULL,
                        spec {text} NOT NULL,
                        status {text} NOT NULL,
                        arm_versions {text} NOT NULL,
                        started_at {text} NOT NULL,
                        stopped_at {text});
                    CREATE INDEX ab_experiments_model ON ab_experiments (model, status);
                    """),
            ];
        }
    }

    public async Task<ModelVersion> AddVersionAsync(string model, NewModelVersion version, long artifactSize, DateTimeOffset now,
        Func<int, EncodedEvent> announce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        await using var connection = await OpenAsync(cancellationToken);
        // Serialised, so two registrations cannot pick the same number.
        await using var tx = await dialect.BeginSerializedAsync(connection, "model_versions", cancellationToken);
        var stamp = now.ToString("O", CultureInfo.InvariantCulture);
        if (version.RequestId is not null && await ScalarAsync(connection, tx, "SELECT version FROM model_versions WHERE model = @p0 AND request_id = @p1",
                cancellationToken, model, version.RequestId) is { } existing and not DBNull)
        {
            // Registered before under this request: the same version, and no second announcement.
            await tx.RollbackAsync(cancellationToken);
            return (await GetVersionAsync(model, Convert.ToInt32(existing, CultureInfo.InvariantCulture), cancellationToken))!;
        }
        await ExecuteAsync(connection, tx, "INSERT INTO registered_models(name, created_at) VALUES (@p0, @p1) ON CONFLICT DO NOTHING", cancellationToken, model, stamp);
        var next = Convert.ToInt32(await ScalarAsync(connection, tx,
            "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model = @p0", cancellationToken, model), CultureInfo.InvariantCulture);
        await ExecuteAsync(connection, tx, """
            INSERT INTO model_versions(model, version, created_at, artifact_sha256, artifact_size, format, metrics, params,
                dataset_version, feature_view, feature_view_version, feature_names, description, request_id, run_id)
            VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12, @p13, @p14)
            """, cancellationToken, model, next, stamp, version.ArtifactSha256, artifactSize, version.Format,
            Json(version.Metrics), Json(version.Params), version.DatasetVersion, version.FeatureView,
            version.FeatureViewVersion, Json(version.FeatureNames), version.Description, version.RequestId, version.RunId);
        await AddOutboxAsync(connection, tx, announce(next), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return (await GetVersionAsync(model, next, cancellationToken))!;
    }

    public async Task<ModelVersion?> GetVersionAsync(string model, int version, CancellationToken cancellationToken)
    {
        var rows = await QueryVersionsAsync($"SELECT {VersionColumns} FROM model_versions v WHERE v.model = @p0 AND v.version = @p1",
            cancellationToken, model, version);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<ModelVersion?> GetVersionByAliasAsync(string model, string alias, CancellationToken cancellationToken)
    {
        var rows = await QueryVersionsAsync(
            $"SELECT {VersionColumns} FROM model_aliases a JOIN model_versions v ON v.model = a.model AND v.version = a.version WHERE a.model = @p0 AND a.alias = @p1",
            cancellationToken, model, alias);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<bool> SetAliasAsync(string model, string alias, int version, Func<int?, EncodedEvent> announce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(announce);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await dialect.BeginSerializedAsync(connection, "model_aliases", cancellationToken);
        var previous = await ScalarAsync(connection, tx, "SELECT version FROM model_aliases WHERE model = @p0 AND alias = @p1", cancellationToken, model, alias);
        var changed = await ExecuteAsync(connection, tx, """
            INSERT INTO model_aliases(model, alias, version)
            SELECT @p0, @p1, @p2 WHERE EXISTS (SELECT 1 FROM model_versions WHERE model = @p0 AND version = @p2)
            ON CONFLICT(model, alias) DO UPDATE SET version = excluded.version
            """, cancellationToken, model, alias, version);
        if (changed == 0)
        {
            return false;
        }
        int? was = previous is null ? null : Convert.ToInt32(previous, CultureInfo.InvariantCulture);
        if (was != version)
        {
            await AddOutboxAsync(connection, tx, announce(was), cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Version 0 holds the model's own tags.</summary>
    public async Task<bool> SetTagAsync(string model, int? version, string key, string? value, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var exists = version is { } v
            ? await ScalarAsync(connection, tx, "SELECT 1 FROM model_versions WHERE model = @p0 AND version = @p1", cancellationToken, model, v)
            : await ScalarAsync(connection, tx, "SELECT 1 FROM registered_models WHERE name = @p0", cancellationToken, model);
        if (exists is null or DBNull)
        {
            return false;
        }
        var changed = value is null
            ? await ExecuteAsync(connection, tx, "DELETE FROM model_tags WHERE model = @p0 AND version = @p1 AND key = @p2", cancellationToken, model, version ?? 0, key)
            : await ExecuteAsync(connection, tx, "INSERT INTO model_tags VALUES (@p0, @p1, @p2, @p3) ON CONFLICT (model, version, key) DO UPDATE SET value = excluded.value",
                cancellationToken, model, version ?? 0, key, value);
        await tx.CommitAsync(cancellationToken);
        return changed > 0;
    }

    public async Task<bool> DeleteAsync(string model, int? version, Func<string, int, EncodedEvent> announceAliasRemoved, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(announceAliasRemoved);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await dialect.BeginSerializedAsync(connection, "model_versions", cancellationToken);
        var exists = version is { } v
            ? await ScalarAsync(connection, tx, "SELECT 1 FROM model_versions WHERE model = @p0 AND version = @p1", cancellationToken, model, v)
            : await ScalarAsync(connection, tx, "SELECT 1 FROM registered_models WHERE name = @p0", cancellationToken, model);
        if (exists is null or DBNull)
        {
            return false;
        }
        var which = version is null ? string.Empty : " AND version = @p1";
        object?[] args = version is null ? [model] : [model, version.Value];
        if (version is { } deleted && (await CurrentPolicyAsync(connection, tx, model, cancellationToken))?.Targets().Contains(TrafficTarget.OfVersion(deleted)) == true)
        {
            throw new Strata.Contracts.Errors.ResourceConflictException(
                $"version {deleted} of '{model}' is named by its traffic policy: change the policy (PUT /api/registry/models/{model}/traffic) before deleting it");
        }
        var aliases = new List<(string Alias, int Version)>();
        await using (var select = Command(connection, tx, $"SELECT alias, version FROM model_aliases WHERE model = @p0{which}", args))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                aliases.Add((reader.GetString(0), reader.GetInt32(1)));
            }
        }
        await ExecuteAsync(connection, tx, $"DELETE FROM model_aliases WHERE model = @p0{which}", cancellationToken, args);
        foreach (var (alias, aliased) in aliases)
        {
            await AddOutboxAsync(connection, tx, announceAliasRemoved(alias, aliased), cancellationToken);
        }
        // A model's own tags are stored under version 0.
        await ExecuteAsync(connection, tx, version is null ? "DELETE FROM model_tags WHERE model = @p0" : "DELETE FROM model_tags WHERE model = @p0 AND version = @p1",
            cancellationToken, args);
        await ExecuteAsync(connection, tx, $"DELETE FROM model_versions WHERE model = @p0{which}", cancellationToken, args);
        if (version is null)
        {
            await ExecuteAsync(connection, tx, "DELETE FROM traffic_policies WHERE model = @p0", cancellationToken, model);
            await ExecuteAsync(connection, tx, "DELETE FROM registered_models WHERE name = @p0", cancellationToken, model);
        }
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<bool> RenameAsync(string model, string newName, Func<string, string, int?, int?, EncodedEvent> announceAlias, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(announceAlias);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await dialect.BeginSerializedAsync(connection, "model_versions", cancellationToken);
        if (await ScalarAsync(connection, tx, "SELECT 1 FROM registered_models WHERE name = @p0", cancellationToken, model) is null or DBNull)
        {
            return false;
        }
        if (await ScalarAsync(connection, tx, "SELECT 1 FROM registered_models WHERE name = @p0", cancellationToken, newName) is not (null or DBNull))
        {
            throw new Strata.Contracts.Errors.ResourceConflictException($"registered model '{newName}' already exists");
        }
        var aliases = new List<(string Alias, int Version)>();
        await using (var select = Command(connection, tx, "SELECT alias, version FROM model_aliases WHERE model = @p0", [model]))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                aliases.Add((reader.GetString(0), reader.GetInt32(1)));
            }
        }
        // Copied under the new name, then removed under the old: every foreign key holds at every statement.
        await ExecuteAsync(connection, tx, "INSERT INTO registered_models (name, created_at, description) SELECT @p1, created_at, description FROM registered_models WHERE name = @p0",
            cancellationToken, model, newName);
        await ExecuteAsync(connection, tx, $"INSERT INTO model_versions ({VersionColumnList}) SELECT {VersionColumnList.Replace("model,", "@p1,", StringComparison.Ordinal)} FROM model_versions WHERE model = @p0",
            cancellationToken, model, newName);
        await ExecuteAsync(connection, tx, "INSERT INTO model_aliases (model, alias, version) SELECT @p1, alias, version FROM model_aliases WHERE model = @p0", cancellationToken, model, newName);
        await ExecuteAsync(connection, tx, "INSERT INTO model_tags (model, version, key, value) SELECT @p1, version, key, value FROM model_tags WHERE model = @p0", cancellationToken, model, newName);
        await ExecuteAsync(connection, tx, "INSERT INTO traffic_policies (model, version, created_at, policy) SELECT @p1, version, created_at, policy FROM traffic_policies WHERE model = @p0",
            cancellationToken, model, newName);
        await ExecuteAsync(connection, tx, "DELETE FROM traffic_policies WHERE model = @p0", cancellationToken, model);
        await ExecuteAsync(connection, tx, "DELETE FROM model_aliases WHERE model = @p0", cancellationToken, model);
        await ExecuteAsync(connection, tx, "DELETE FROM model_tags WHERE model = @p0", cancellationToken, model);
        await ExecuteAsync(connection, tx, "DELETE FROM model_versions WHERE model = @p0", cancellationToken, model);
        await ExecuteAsync(connection, tx, "DELETE FROM registered_models WHERE name = @p0", cancellationToken, model);
        foreach (var (alias, version) in aliases)
        {
            await AddOutboxAsync(connection, tx, announceAlias(model, alias, null, version), cancellationToken);
            await AddOutboxAsync(connection, tx, announceAlias(newName, alias, version, null), cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Every column of <c>model_versions</c>, in its declared order.</summary>
    private const string VersionColumnList = "model, version, created_at, artifact_sha256, artifact_size, format, metrics, params, dataset_version, " +
        "feature_view, feature_view_version, feature_names, description, request_id, run_id";

    public async Task<bool> SetDescriptionAsync(string model, int? version, string? description, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var changed = version is { } v
            ? await ExecuteAsync(connection, tx, "UPDATE model_versions SET description = @p2 WHERE model = @p0 AND version = @p1", cancellationToken, model, v, description)
            : await ExecuteAsync(connection, tx, "UPDATE registered_models SET description = @p1 WHERE name = @p0", cancellationToken, model, description);
        await tx.CommitAsync(cancellationToken);
        return changed > 0;
    }

    private static async Task<Dictionary<(string Model, int Version), Dictionary<string, string>>> TagsAsync(DbConnection connection, string where,
        CancellationToken cancellationToken, params object?[] args)
    {
        var rows = await QueryAsync(connection, $"SELECT model, version, key, value FROM model_tags WHERE {where} ORDER BY key",
            r => (Model: r.GetString(0), Version: r.GetInt32(1), Key: r.GetString(2), Value: r.GetString(3)), cancellationToken, args);
        return rows.GroupBy(t => (t.Model, t.Version)).ToDictionary(g => g.Key, g => g.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal));
    }

    public async Task<bool> DeleteAliasAsync(string model, string alias, Func<int, EncodedEvent> announce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(announce);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await dialect.BeginSerializedAsync(connection, "model_aliases", cancellationToken);
        var previous = await ScalarAsync(connection, tx, "SELECT version FROM model_aliases WHERE model = @p0 AND alias = @p1", cancellationToken, model, alias);
        if (previous is null or DBNull)
        {
            return false;
        }
        if ((await CurrentPolicyAsync(connection, tx, model, cancellationToken))?.Targets().Contains(TrafficTarget.OfAlias(alias)) == true)
        {
            throw new Strata.Contracts.Errors.ResourceConflictException(
                $"alias '{alias}' of '{model}' is named by its traffic policy: change the policy (PUT /api/registry/models/{model}/traffic) before deleting it");
        }
        await ExecuteAsync(connection, tx, "DELETE FROM model_aliases WHERE model = @p0 AND alias = @p1", cancellationToken, model, alias);
        await AddOutboxAsync(connection, tx, announce(Convert.ToInt32(previous, CultureInfo.InvariantCulture)), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<TrafficPolicyVersion?> SetTrafficPolicyAsync(string model, TrafficPolicy? policy, DateTimeOffset now, Func<int, EncodedEvent> announce,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(announce);
        await using var connection = await OpenAsync(cancellationToken);
        // Serialised with alias and version changes, so a target checked here cannot vanish before the commit.
        await using var tx = await dialect.BeginSerializedAsync(connection, "model_versions", cancellationToken);
        if (await ScalarAsync(connection, tx, "SELECT 1 FROM registered_models WHERE name = @p0", cancellationToken, model) is null or DBNull)
        {
            return null;
        }
        foreach (var target in policy?.Targets() ?? [])
        {
            var exists = target.Version is { } v
                ? await ScalarAsync(connection, tx, "SELECT 1 FROM model_versions WHERE model = @p0 AND version = @p1", cancellationToken, model, v)
                : await ScalarAsync(connection, tx, "SELECT 1 FROM model_aliases WHERE model = @p0 AND alias = @p1", cancellationToken, model, target.Alias);
            if (exists is null or DBNull)
            {
                throw new Strata.Contracts.Errors.InputValidationException("target",
                    target.Version is null ? $"model '{model}' has no alias '{target.Alias}'" : $"model '{model}' has no version {target.Version}");
            }
        }
        var next = Convert.ToInt32(await ScalarAsync(connection, tx,
            "SELECT COALESCE(MAX(version), 0) + 1 FROM traffic_policies WHERE model = @p0", cancellationToken, model), CultureInfo.InvariantCulture);
        await ExecuteAsync(connection, tx, "INSERT INTO traffic_policies (model, version, created_at, policy) VALUES (@p0, @p1, @p2, @p3)", cancellationToken,
            model, next, now.ToString("O", CultureInfo.InvariantCulture), policy is null ? null : Json(policy));
        await AddOutboxAsync(connection, tx, announce(next), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return new TrafficPolicyVersion(model, next, now, policy);
    }

    public async Task<IReadOnlyList<TrafficPolicyVersion>> GetTrafficHistoryAsync(string model, int? limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await QueryAsync(connection, "SELECT model, version, created_at, policy FROM traffic_policies WHERE model = @p0 ORDER BY version DESC LIMIT @p1",
            r => new TrafficPolicyVersion(r.GetString(0), r.GetInt32(1), DateTimeOffset.Parse(r.GetString(2), CultureInfo.InvariantCulture),
                r.IsDBNull(3) ? null : JsonSerializer.Deserialize<TrafficPolicy>(r.GetString(3), StrataJson.Options)), cancellationToken, model, limit ?? int.MaxValue);
    }

    private const string RolloutColumns = "id, model, candidate, baseline, spec, status, step, weight, created_at, step_started_at, updated_at, reason";

    public async Task<bool> AddRolloutAsync(Rollout rollout, RolloutStepRecord entry, EncodedEvent announce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        ArgumentNullException.ThrowIfNull(entry);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await dialect.BeginSerializedAsync(connection, "rollouts", cancellationToken);
        if (await ScalarAsync(connection, tx, "SELECT id FROM rollouts WHERE model = @p0 AND status IN ('running', 'paused')", cancellationToken, rollout.Model)
            is string active)
        {
            throw new Strata.Contracts.Errors.ResourceConflictException($"model '{rollout.Model}' has a rollout in progress ({active}): abort it or let it finish first");
        }
        await ExecuteAsync(connection, tx, $"INSERT INTO rollouts ({RolloutColumns}) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11)",
            cancellationToken, rollout.Id, rollout.Model, rollout.Candidate, rollout.Baseline, Json(rollout.Spec), rollout.Status, rollout.Step, rollout.Weight,
            Stamp(rollout.CreatedAt), Stamp(rollout.StepStartedAt), Stamp(rollout.UpdatedAt), rollout.Reason);
        await AddHistoryAsync(connection, tx, rollout.Id, entry, cancellationToken);
        await AddOutboxAsync(connection, tx, announce, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Stores the rollout's new state if it is still at <paramref name="previousUpdate"/> (else false: someone
    /// changed it meanwhile), with its history entry and announcement, in one transaction.</summary>
    public async Task<bool> UpdateRolloutAsync(Rollout rollout, DateTimeOffset previousUpdate, RolloutStepRecord entry, EncodedEvent announce,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        ArgumentNullException.ThrowIfNull(entry);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await dialect.BeginSerializedAsync(connection, "rollouts", cancellationToken);
        var changed = await ExecuteAsync(connection, tx, """
            UPDATE rollouts SET status = @p1, step = @p2, weight = @p3, step_started_at = @p4, updated_at = @p5, reason = @p6
            WHERE id = @p0 AND updated_at = @p7
            """, cancellationToken, rollout.Id, rollout.Status, rollout.Step, rollout.Weight, Stamp(rollout.StepStartedAt), Stamp(rollout.UpdatedAt), rollout.Reason,
            Stamp(previousUpdate));
        if (changed == 0)
        {
            await tx.RollbackAsync(cancellationToken);
            return false;
        }
        await AddHistoryAsync(connection, tx, rollout.Id, entry, cancellationToken);
        await AddOutboxAsync(connection, tx, announce, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<Rollout>> ListRolloutsAsync(string? model, string? id, bool activeOnly, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var where = new List<string>();
        var args = new List<object?>();
        if (model is not null)
        {
            where.Add($"model = @p{args.Count}");
            args.Add(model);
        }
        if (id is not null)
        {
            where.Add($"id = @p{args.Count}");
            args.Add(id);
        }
        if (activeOnly)
        {
            where.Add("status IN ('running', 'paused')");
        }
        var rollouts = await QueryAsync(connection, $"SELECT {RolloutColumns} FROM rollouts{(where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where))} ORDER BY created_at DESC, id",
            r => new Rollout(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetInt32(3), JsonSerializer.Deserialize<RolloutSpec>(r.GetString(4), StrataJson.Options)!,
                r.GetString(5), r.GetInt32(6), r.GetInt32(7), ParseStamp(r.GetString(8)), ParseStamp(r.GetString(9)), ParseStamp(r.GetString(10)),
                r.IsDBNull(11) ? null : r.GetString(11), []), cancellationToken, [.. args]);
        var result = new List<Rollout>(rollouts.Count);
        foreach (var rollout in rollouts)
        {
            var history = await QueryAsync(connection, "SELECT time, kind, step, weight, detail FROM rollout_history WHERE rollout_id = @p0 ORDER BY seq",
                r => new RolloutStepRecord(ParseStamp(r.GetString(0)), r.GetString(1), r.GetInt32(2), r.GetInt32(3), r.GetString(4)), cancellationToken, rollout.Id);
            result.Add(rollout with { History = history });
        }
        return result;
    }

    public async Task AddExperimentAsync(Experiment experiment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await dialect.BeginSerializedAsync(connection, "ab_experiments", cancellationToken);
        if (await ScalarAsync(connection, tx, "SELECT id FROM ab_experiments WHERE model = @p0 AND status = 'running'", cancellationToken, experiment.Model) is string running)
        {
            throw new Strata.Contracts.Errors.ResourceConflictException($"model '{experiment.Model}' has an experiment running ({running}): stop it first");
        }
        await ExecuteAsync(connection, tx, "INSERT INTO ab_experiments (id, model, spec, status, arm_versions, started_at, stopped_at) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, NULL)",
            cancellationToken, experiment.Id, experiment.Model, Json(experiment.Spec), experiment.Status, Json(experiment.ArmVersions), Stamp(experiment.StartedAt));
        await tx.CommitAsync(cancellationToken);
    }

    public async Task<bool> StopExperimentAsync(string id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ExecuteAsync(connection, null, "UPDATE ab_experiments SET status = 'stopped', stopped_at = @p1 WHERE id = @p0 AND status = 'running'", cancellationToken,
            id, Stamp(at)) == 1;
    }

    public async Task<IReadOnlyList<Experiment>> ListExperimentsAsync(string? model, string? id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var (where, args) = (model, id) switch
        {
            (not null, _) => (" WHERE model = @p0", new object?[] { model }),
            (_, not null) => (" WHERE id = @p0", new object?[] { id }),
            _ => ("", []),
        };
        return await QueryAsync(connection, $"SELECT id, model, spec, status, arm_versions, started_at, stopped_at FROM ab_experiments{where} ORDER BY started_at DESC, id",
            r => new Experiment(r.GetString(0), r.GetString(1), JsonSerializer.Deserialize<ExperimentSpec>(r.GetString(2), StrataJson.Options)!, r.GetString(3),
                JsonSerializer.Deserialize<Dictionary<string, int>>(r.GetString(4), StrataJson.Options)!, ParseStamp(r.GetString(5)),
                r.IsDBNull(6) ? null : ParseStamp(r.GetString(6))), cancellationToken, args);
    }

    private static async Task AddHistoryAsync(DbConnection connection, DbTransaction tx, string id, RolloutStepRecord entry, CancellationToken cancellationToken)
    {
        var seq = Convert.ToInt32(await ScalarAsync(connection, tx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM rollout_history WHERE rollout_id = @p0", cancellationToken, id),
            CultureInfo.InvariantCulture);
        await ExecuteAsync(connection, tx, "INSERT INTO rollout_history (rollout_id, seq, time, kind, step, weight, detail) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6)",
            cancellationToken, id, seq, Stamp(entry.Time), entry.Kind, entry.Step, entry.Weight, entry.Detail);
    }

    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseStamp(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static async Task<TrafficPolicy?> CurrentPolicyAsync(DbConnection connection, DbTransaction tx, string model, CancellationToken cancellationToken) =>
        await ScalarAsync(connection, tx, "SELECT policy FROM traffic_policies WHERE model = @p0 ORDER BY version DESC LIMIT 1", cancellationToken, model) is string json
            ? JsonSerializer.Deserialize<TrafficPolicy>(json, StrataJson.Options)
            : null;

    private static Task<int> AddOutboxAsync(DbConnection connection, DbTransaction tx, EncodedEvent e, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, tx, "INSERT INTO outbox(id, topic, key, envelope) VALUES (@p0, @p1, @p2, @p3)", cancellationToken,
            e.Id, e.Topic, e.Key, e.Envelope.ToArray());

    public async Task<IReadOnlyList<EncodedEvent>> PendingOutboxAsync(int max, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await QueryAsync(connection, "SELECT id, topic, key, envelope FROM outbox ORDER BY seq LIMIT @p0",
            r => new EncodedEvent(r.GetString(0), r.GetString(1), r.GetString(2), (byte[])r[3]), cancellationToken, max);
    }

    public async Task RemoveOutboxAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var id in ids)
        {
            await ExecuteAsync(connection, tx, "DELETE FROM outbox WHERE id = @p0", cancellationToken, id);
        }
        await tx.CommitAsync(cancellationToken);
    }

    public async Task<bool> CreateModelAsync(string model, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ExecuteAsync(connection, null, "INSERT INTO registered_models(name, created_at) VALUES (@p0, @p1) ON CONFLICT DO NOTHING", cancellationToken,
            model, now.ToString("O", CultureInfo.InvariantCulture)) == 1;
    }

    public async Task<IReadOnlyList<RegisteredModel>> ListModelsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var models = await QueryAsync(connection, """
            SELECT m.name, m.created_at, (SELECT COALESCE(MAX(version), 0) FROM model_versions v WHERE v.model = m.name), m.description
            FROM registered_models m ORDER BY m.name
            """, r => new RegisteredModel(r.GetString(0), DateTimeOffset.Parse(r.GetString(1), CultureInfo.InvariantCulture),
                r.GetInt32(2), new Dictionary<string, int>()) { Description = r.IsDBNull(3) ? null : r.GetString(3) }, cancellationToken);
        var aliases = (await QueryAsync(connection, "SELECT model, alias, version FROM model_aliases ORDER BY model, alias",
                r => (Model: r.GetString(0), Alias: r.GetString(1), Version: r.GetInt32(2)), cancellationToken))
            .GroupBy(a => a.Model)
            .ToDictionary(g => g.Key, g => g.ToDictionary(a => a.Alias, a => a.Version, StringComparer.Ordinal), StringComparer.Ordinal);
        var tags = await TagsAsync(connection, "version = 0", cancellationToken);
        return [.. models.Select(m => (aliases.TryGetValue(m.Name, out var a) ? m with { Aliases = a } : m) with { Tags = tags.GetValueOrDefault((m.Name, 0)) })];
    }

    public Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string model, CancellationToken cancellationToken) =>
        QueryVersionsAsync($"SELECT {VersionColumns} FROM model_versions v WHERE v.model = @p0 ORDER BY v.version", cancellationToken, model);

    public async Task<bool> ModelExistsAsync(string model, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ScalarAsync(connection, null, "SELECT 1 FROM registered_models WHERE name = @p0", cancellationToken, model) is not null;
    }

    private async Task<IReadOnlyList<ModelVersion>> QueryVersionsAsync(string sql, CancellationToken cancellationToken, params object?[] args)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var versions = await QueryAsync(connection, sql, reader => new ModelVersion(
            Model: reader.GetString(0),
            Version: reader.GetInt32(1),
            CreatedAt: DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture),
            ArtifactSha256: reader.GetString(3),
            ArtifactSize: reader.GetInt64(4),
            Format: reader.GetString(5),
            Metrics: FromJson<Dictionary<string, double>>(reader.GetString(6)),
            Params: FromJson<Dictionary<string, string>>(reader.GetString(7)),
            DatasetVersion: reader.IsDBNull(8) ? null : reader.GetString(8),
            FeatureView: reader.IsDBNull(9) ? null : reader.GetString(9),
            FeatureViewVersion: reader.IsDBNull(10) ? null : reader.GetString(10),
            FeatureNames: FromJson<List<string>>(reader.GetString(11)),
            Aliases: reader.IsDBNull(13) ? [] : reader.GetString(13).Split(','),
            Description: reader.IsDBNull(12) ? null : reader.GetString(12),
            RunId: reader.IsDBNull(14) ? null : reader.GetString(14)), cancellationToken, args);
        if (versions.Count == 0)
        {
            return versions;
        }
        var tags = new Dictionary<(string Model, int Version), Dictionary<string, string>>();
        foreach (var model in versions.Select(v => v.Model).Distinct(StringComparer.Ordinal))
        {
            foreach (var (key, value) in await TagsAsync(connection, "model = @p0 AND version > 0", cancellationToken, model))
            {
                tags[key] = value;
            }
        }
        return [.. versions.Select(v => tags.TryGetValue((v.Model, v.Version), out var t) ? v with { Tags = t } : v)];
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, StrataJson.Options);

    private static T FromJson<T>(string json) where T : new() => JsonSerializer.Deserialize<T>(json, StrataJson.Options) ?? new T();

    private Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => dialect.OpenAsync(cancellationToken);

    private static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, object?[] args) =>
        SqlDialect.Command(connection, tx, sql, [.. args.Select((value, i) => ($"@p{i}", value))]);

    private static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellationToken, params object?[] args)
    {
        await using var command = Command(connection, tx, sql, args);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellationToken, params object?[] args)
    {
        await using var command = Command(connection, tx, sql, args);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task<List<T>> QueryAsync<T>(DbConnection connection, string sql, Func<DbDataReader, T> map,
        CancellationToken cancellationToken, params object?[] args)
    {
        await using var command = Command(connection, null, sql, args);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }
        return rows;
    }
}
