using Strata.Contracts;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Features.Store;
using Strata.ServiceDefaults;
using Strata.Features.Definitions;

namespace Strata.Features.Offline;

/// <summary>Point-in-time correct retrieval. For each entity row (join keys + <c>event_timestamp</c>) and each stored
/// feature: the value of the row with the greatest event time &lt;= the entity row's, within the view's ttl, ties broken
/// by the latest created time (DuckDB ASOF LEFT JOIN; every entity row comes back, in order). Aggregates are computed
/// from the events in each window by <see cref="WindowAggregator"/>, and on-demand features by the view's compiled
/// transform: the same code online serving runs.</summary>
public sealed class HistoricalRetrieval(IFeatureRepositorySource definitions, OfflineStore offline, IDataClient data)
{
    private FeatureRepository Repository => definitions.Current;

    public const int DefaultMaxInlineRows = 100_000;

    public int MaxInlineRows { get; init; } = DefaultMaxInlineRows;

    public async Task<HistoricalFeaturesResponse> RetrieveAsync(HistoricalFeaturesRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var clock = Stopwatch.StartNew();
        if ((request.EntityRows is null) == (request.EntityDatasetId is null))
        {
            throw new InputValidationException("entity_rows", "give either entity_rows (inline columns) or entity_dataset_id");
        }
        var dataset = request.EntityDatasetId is { } datasetId
            ? await data.GetDatasetAsync(datasetId, cancellationToken) ?? throw new ResourceNotFoundException("dataset", datasetId)
            : null;
        IReadOnlyCollection<string> requestColumns = dataset is not null ? [.. dataset.Schema.Select(c => c.Name)] : request.EntityRows!.Keys;
        var plan = Repository.Resolve(request.Features, request.FeatureService, request.FullFeatureNames, requestColumns);
        if (request.OutputDatasetName is not null && string.IsNullOrWhiteSpace(request.OutputDatasetName))
        {
            throw new InputValidationException("output_dataset_name", "must not be blank");
        }
        var work = Directory.CreateTempSubdirectory("strata-historical-");
        // One consistent set of files per view for the whole retrieval, kept even if a compaction replaces them.
        var snapshots = plan.EntityViews.ToDictionary(s => s.View!.Name, s => offline.Read(s.View!), StringComparer.Ordinal);
        try
        {
            using var db = new DuckDBConnection("Data Source=:memory:");
            await db.OpenAsync(cancellationToken);
            await ExecuteAsync(db, $"SET temp_directory = {DuckSql.Literal(work.FullName)}", cancellationToken);
            var entityColumns = request.EntityRows is { } rows
                ? LoadInline(db, rows, plan)
                : await LoadDatasetAsync(db, dataset!, plan, work.FullName, cancellationToken);
            var collision = plan.FeatureNames.FirstOrDefault(n => entityColumns.Contains(n, StringComparer.Ordinal));
            if (collision is not null)
            {
                throw new InputValidationException("features", $"feature '{collision}' has the name of an entity column; set full_feature_names or rename the column");
            }
            var rowCount = await ScalarAsync(db, "SELECT count(*) FROM entity_df", cancellationToken);
            if (request.OutputDatasetName is null && rowCount > MaxInlineRows)
            {
                throw new InputValidationException("entity_rows", $"{rowCount} rows is more than {MaxInlineRows} to return inline; set output_dataset_name to write the result as a dataset version");
            }
            var query = await QueryAsync(db, plan, snapshots, rowCount, cancellationToken);
            IReadOnlyList<string> columns = [.. entityColumns, .. plan.FeatureNames];
            if (request.OutputDatasetName is { } output)
            {
                var version = await WriteDatasetAsync(db, query, output, work.FullName, cancellationToken);
                return new HistoricalFeaturesResponse(rowCount, columns, null, version, clock.Elapsed.TotalSeconds);
            }
            return new HistoricalFeaturesResponse(rowCount, columns, await ReadInlineAsync(db, query, columns, (int)rowCount, cancellationToken), null,
                clock.Elapsed.TotalSeconds);
        }
        catch (DuckDBException e)
        {
            throw new DependencyUnavailableException("offline store", "historical retrieval failed: " + e.Message.Split('\n', 2)[0], e);
        }
        finally
        {
            foreach (var snapshot in snapshots.Values)
            {
                snapshot.Dispose();
            }
            work.Delete(recursive: true);
        }
    }

    /// <summary>The query of the result: the entity rows in order with every feature as of each row's time. Stored views
    /// only: one query from the point-in-time joins. With aggregates or on-demand views: the stored values first (on-demand
    /// views may read them, table <c>base</c>), then the computed ones (table <c>extra</c>), joined by row.</summary>
    private async Task<string> QueryAsync(DuckDBConnection db, FeaturePlan plan, Dictionary<string, OfflineSnapshot> snapshots, long rowCount,
        CancellationToken cancellationToken)
    {
        var (storedColumns, joins) = StoredJoins(plan, snapshots);
        if (!plan.Selections.Any(s => s.View is AggregateFeatureView || s.OnDemand is not null))
        {
            var stored = storedColumns.Where(c => c.Output is not null).Select(c => $"{c.Sql} AS {DuckSql.Identifier(c.Output!)}").Prepend("e.* EXCLUDE (__row)");
            return $"SELECT {string.Join(", ", stored)} FROM entity_df e {joins} ORDER BY e.__row";
        }
        await ExecuteAsync(db, $"CREATE TEMP TABLE base AS SELECT {string.Join(", ", storedColumns.Select(c => c.Sql + " AS " + c.Name).Prepend("e.__row"))} FROM entity_df e {joins}", cancellationToken);
        await BuildComputedAsync(db, plan, snapshots, checked((int)rowCount), cancellationToken);
        var select = new List<string> { "e.* EXCLUDE (__row)" };
        foreach (var s in plan.Selections)
        {
            for (var i = 0; i < s.Features.Count; i++)
            {
                if (s.OutputColumns[i] >= 0)
                {
                    select.Add($"{(IsStored(s) ? "b" : "x")}.{Internal(plan, s, i)} AS {DuckSql.Identifier(plan.FeatureNames[s.OutputColumns[i]])}");
                }
            }
        }
        return $"SELECT {string.Join(", ", select)} FROM entity_df e JOIN base b USING (__row) JOIN extra x USING (__row) ORDER BY e.__row";
    }

    /// <summary>The result written as Parquet and ingested as a version of dataset <paramref name="output"/>.</summary>
    private async Task<DatasetVersion> WriteDatasetAsync(DuckDBConnection db, string query, string output, string work, CancellationToken cancellationToken)
    {
        var file = Path.Combine(work, "result.parquet");
        await ExecuteAsync(db, $"COPY ({query}) TO {DuckSql.Literal(file)} (FORMAT parquet)", cancellationToken);
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        return await data.IngestParquetAsync(output, stream, cancellationToken);
    }

    /// <summary>The result as columns in the response (JSON values).</summary>
    private static async Task<Dictionary<string, IReadOnlyList<object?>>> ReadInlineAsync(DuckDBConnection db, string query, IReadOnlyList<string> columns, int rowCount,
        CancellationToken cancellationToken)
    {
        var values = columns.Select(_ => new List<object?>(rowCount)).ToArray();
        using (var command = db.CreateCommand())
        {
            command.CommandText = query;
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                for (var c = 0; c < values.Length; c++)
                {
                    values[c].Add(reader.IsDBNull(c) ? null : Wire(reader.GetValue(c)));
                }
            }
        }
        var result = new Dictionary<string, IReadOnlyList<object?>>(StringComparer.Ordinal);
        for (var c = 0; c < columns.Count; c++)
        {
            result[columns[c]] = values[c];
        }
        return result;
    }

    private static bool IsStored(ViewSelection s) => s.View is StoredFeatureView;

    private static string Internal(FeaturePlan plan, ViewSelection s, int feature) =>
        $"\"s{IndexOf(plan, s)}_{feature}\"";

    private static int IndexOf(FeaturePlan plan, ViewSelection s)
    {
        for (var i = 0; i < plan.Selections.Count; i++)
        {
            if (ReferenceEquals(plan.Selections[i], s))
            {
                return i;
            }
        }
        throw new InvalidOperationException("selection is not part of the plan");
    }

    private static object? Wire(object value) => value switch
    {
        DateTime t => FeatureValues.FormatTimestamp(FeatureValues.Micros(new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)))),
        DateTimeOffset t => FeatureValues.FormatTimestamp(FeatureValues.Micros(t)),
        float f => (double)f,
        int i => (long)i,
        short s => (long)s,
        decimal d => (double)d,
        _ => value,
    };

    /// <summary>One ASOF LEFT JOIN per stored view: the value expression of each selected stored feature (its internal
    /// name, and its output name when returned) and the joins that produce them.</summary>
    private (List<(string Name, string Sql, string? Output)> Columns, string Joins) StoredJoins(FeaturePlan plan, Dictionary<string, OfflineSnapshot> snapshots)
    {
        var columnsOut = new List<(string, string, string?)>();
        var joins = new List<string>();
        foreach (var s in plan.Selections.Where(IsStored))
        {
            var view = (StoredFeatureView)s.View!;
            var alias = $"v{IndexOf(plan, s)}";
            var keys = Repository.Entity(view.Entity).JoinKeys.Select(k => DuckSql.Identifier(k.Name)).ToList();
            var columns = s.Features.Select(f => DuckSql.Identifier(f.Name)).ToList();
            // ASOF on (event time, created time): the greatest pair <= (entity time, +infinity) is the latest row at or
            // before the entity time and, among rows with that event time, the one created last (the tie-break).
            var table = $"(SELECT {string.Join(", ", keys)}, event_timestamp AS __ts, struct_pack(t := event_timestamp, c := created_timestamp) AS __order, " +
                $"{string.Join(", ", columns)} FROM {snapshots[view.Name].Sql})";
            var on = string.Join(" AND ", keys.Select(k => $"e.{k} = {alias}.{k}")
                .Append($"struct_pack(t := e.event_timestamp, c := TIMESTAMP 'infinity') >= {alias}.__order"));
            joins.Add($"ASOF LEFT JOIN {table} {alias} ON {on}");
            for (var i = 0; i < s.Features.Count; i++)
            {
                var value = $"{alias}.{columns[i]}";
                if (view.Ttl is { } ttl)
                {
                    value = $"CASE WHEN {alias}.__ts >= e.event_timestamp - to_microseconds({FeatureValues.Micros(ttl)}) THEN {value} END";
                }
                columnsOut.Add((Internal(plan, s, i), value, s.OutputColumns[i] >= 0 ? plan.FeatureNames[s.OutputColumns[i]] : null));
            }
        }
        return (columnsOut, string.Join(" ", joins));
    }

    /// <summary>Aggregates and on-demand features, computed in process row by row into <c>extra(__row, s{i}_{j}...)</c>.</summary>
    private async Task BuildComputedAsync(DuckDBConnection db, FeaturePlan plan, Dictionary<string, OfflineSnapshot> snapshots, int rowCount, CancellationToken cancellationToken)
    {
        var computed = plan.Selections.Where(s => !IsStored(s)).ToList();
        var values = new Dictionary<ViewSelection, object?[][]>();
        foreach (var s in plan.Selections.Where(s => s.View is AggregateFeatureView))
        {
            values[s] = await AggregateAsync(db, s, snapshots[s.View!.Name], rowCount, cancellationToken);
        }
        foreach (var s in plan.OnDemandViews)
        {
            values[s] = await OnDemandAsync(db, plan, s, values, rowCount, cancellationToken);
        }
        var definitions = computed.SelectMany(s => s.Features.Select((f, i) => $"{Internal(plan, s, i)} {OfflineStore.SqlType(f.Type)}"));
        await ExecuteAsync(db, $"CREATE TEMP TABLE extra (__row BIGINT, {string.Join(", ", definitions)})", cancellationToken);
        using var appender = db.CreateAppender("extra");
        for (var r = 0; r < rowCount; r++)
        {
            var row = appender.CreateRow().AppendValue((long)r);
            foreach (var s in computed)
            {
                foreach (var value in values[s][r])
                {
                    switch (value)
                    {
                        case null: row.AppendNullValue(); break;
                        case double d: row.AppendValue(d); break;
                        case long l: row.AppendValue(l); break;
                        default: throw new InvalidOperationException($"unexpected computed value {value.GetType().Name}");
                    }
                }
            }
            row.EndRow();
        }
    }

    /// <summary>Each entity row's aggregates from the events of its longest window, per row in event order.</summary>
    private async Task<object?[][]> AggregateAsync(DuckDBConnection db, ViewSelection s, OfflineSnapshot snapshot, int rowCount, CancellationToken cancellationToken)
    {
        var view = (AggregateFeatureView)s.View!;
        var keys = Repository.Entity(view.Entity).JoinKeys.Select(k => DuckSql.Identifier(k.Name)).ToList();
        var columns = view.StoredColumns.Select(c => DuckSql.Identifier(c.Name)).ToList();
        var window = FeatureValues.Micros(view.MaxWindow);
        var on = string.Join(" AND ", keys.Select(k => $"e.{k} = f.{k}"));
        using var command = db.CreateCommand();
        // An event is (key, event time, created time): the same event stored twice (an event handled again) counts once,
        // as online. Sorted so copies are adjacent.
        command.CommandText = $"SELECT e.__row, epoch_us(f.event_timestamp), epoch_us(f.{OfflineStore.CreatedTimestamp}), {string.Join(", ", columns.Select(c => "f." + c))} " +
            $"FROM entity_df e JOIN {snapshot.Sql} f ON {on} AND f.event_timestamp <= e.event_timestamp " +
            $"AND f.event_timestamp > e.event_timestamp - to_microseconds({window}) ORDER BY e.__row, 2, 3";
        var asOf = new long[rowCount];
        using (var times = db.CreateCommand())
        {
            times.CommandText = "SELECT __row, epoch_us(event_timestamp) FROM entity_df";
            using var reader = await times.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                asOf[reader.GetInt64(0)] = reader.GetInt64(1);
            }
        }
        var all = new object?[view.Features.Count];
        var result = new object?[rowCount][];
        var events = new List<FeatureRow>();
        var current = -1L;
        void Flush()
        {
            if (current >= 0)
            {
                Finish(current, events);
            }
        }
        void Finish(long row, List<FeatureRow> rowEvents)
        {
            WindowAggregator.Compute(view, rowEvents, asOf[row], all, 0);
            result[row] = [.. s.Indices.Select(i => all[i])];
        }
        using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = reader.GetInt64(0);
                if (row != current)
                {
                    Flush();
                    events.Clear();
                    current = row;
                }
                var eventTs = reader.GetInt64(1);
                var createdTs = reader.IsDBNull(2) ? 0 : reader.GetInt64(2);
                if (events.Count > 0 && events[^1].EventTs == eventTs && events[^1].CreatedTs == createdTs)
                {
                    continue; // a copy of the event before it
                }
                var rowValues = new object?[columns.Count];
                for (var c = 0; c < columns.Count; c++)
                {
                    rowValues[c] = reader.IsDBNull(3 + c) ? null : reader.GetDouble(3 + c);
                }
                events.Add(new FeatureRow(string.Empty, eventTs, createdTs, rowValues));
            }
            Flush();
        }
        for (var r = 0; r < rowCount; r++)
        {
            if (result[r] is null)
            {
                Finish(r, []);
            }
        }
        return result;
    }

    /// <summary>Each entity row's on-demand features from request columns and the features feeding the view.</summary>
    private static async Task<object?[][]> OnDemandAsync(DuckDBConnection db, FeaturePlan plan, ViewSelection s, Dictionary<ViewSelection, object?[][]> computed,
        int rowCount, CancellationToken cancellationToken)
    {
        var transform = s.OnDemand!.Transform;
        var inputs = new double[rowCount][];
        for (var r = 0; r < rowCount; r++)
        {
            inputs[r] = new double[s.InputSources.Count];
        }
        for (var i = 0; i < s.InputSources.Count; i++)
        {
            var input = s.InputSources[i];
            if (input.From is { View: AggregateFeatureView } from)
            {
                for (var r = 0; r < rowCount; r++)
                {
                    inputs[r][i] = computed[from][r][input.FeatureIndex] is double d ? d : double.NaN;
                }
                continue;
            }
            var column = input.From is { } stored ? Internal(plan, stored, input.FeatureIndex) : DuckSql.Identifier(input.Name);
            var type = s.OnDemand.Inputs[i].Type;
            // Strings travel as their code in the view's table (FeatureTransform.Encode), timestamps as epoch seconds.
            var value = type switch
            {
                LogicalType.String => $"CAST({column} AS VARCHAR)",
                LogicalType.Timestamp => $"COALESCE(TRY_CAST({column} AS DOUBLE), epoch(TRY_CAST({column} AS TIMESTAMPTZ)))",
                _ => $"CAST({column} AS DOUBLE)",
            };
            using var command = db.CreateCommand();
            command.CommandText = $"SELECT __row, {value} FROM {(input.From is null ? "entity_df" : "base")}";
            using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                inputs[reader.GetInt64(0)][i] = reader.IsDBNull(1) ? double.NaN
                    : type == LogicalType.String ? transform.Encode(i, reader.GetString(1))
                    : reader.GetDouble(1);
            }
        }
        var nullable = s.OnDemand.Inputs.Select(f => f.Nullable == true).ToArray();
        var result = new object?[rowCount][];
        for (var r = 0; r < rowCount; r++)
        {
            // A missing input (no stored value, or null in the request) gives null features, as online, unless the
            // input is declared nullable (then the formula sees null).
            if (inputs[r].Where((v, i) => double.IsNaN(v) && !nullable[i]).Any())
            {
                result[r] = new object?[s.Features.Count];
                continue;
            }
            double[] features;
            try
            {
                features = transform.Compute(inputs[r]);
            }
            catch (InputValidationException e)
            {
                throw new InputValidationException(e.Field, $"entity row {r}: {e.Message}");
            }
            result[r] = [.. s.Indices.Select(i => (object?)features[i])];
        }
        return result;
    }

    /// <summary>Loads inline entity columns into <c>entity_df</c>; returns the entity column names in order.</summary>
    private static List<string> LoadInline(DuckDBConnection db, FeatureColumns rows, FeaturePlan plan)
    {
        var rowCount = FeatureValues.RowCount(rows, "entity_rows");
        if (rowCount <= 0)
        {
            throw new InputValidationException("entity_rows", "has no rows");
        }
        var timestamps = rows.GetValueOrDefault(OfflineStore.EventTimestamp)
            ?? throw new InputValidationException("entity_rows.event_timestamp", "is required: the time each row's features are wanted as of");
        var times = timestamps.Select((v, r) => FeatureValues.ToTimestamp(v, "entity_rows.event_timestamp", r)).ToArray();
        foreach (var key in plan.JoinKeys)
        {
            if (!rows.ContainsKey(key.Name))
            {
                throw new InputValidationException($"entity_rows.{key.Name}", $"is required: join key of the requested features ({WireNames.Of(key.Type)})");
            }
        }
        foreach (var required in plan.RequestColumns)
        {
            if (!rows.ContainsKey(required))
            {
                throw new InputValidationException($"entity_rows.{required}", "is required as request data of an on-demand feature (or its source view must provide it)");
            }
        }
        // Columns keep the request's order; join keys and request data are typed as declared, others inferred.
        var names = new List<string>();
        var types = new List<LogicalType>();
        var converted = new List<object?[]>();
        foreach (var (name, column) in rows)
        {
            if (name.StartsWith("__", StringComparison.Ordinal))
            {
                throw new InputValidationException($"entity_rows.{name}", "column names starting with '__' are reserved");
            }
            if (name == OfflineStore.EventTimestamp)
            {
                names.Add(name);
                types.Add(LogicalType.Timestamp);
                converted.Add([.. times.Select(t => (object?)t)]);
                continue;
            }
            var key = plan.JoinKeys.FirstOrDefault(k => k.Name == name);
            var type = key?.Type ?? (plan.RequestColumns.Contains(name) ? LogicalType.Float64 : InferType(name, column));
            var values = new object?[rowCount];
            for (var r = 0; r < rowCount; r++)
            {
                values[r] = FeatureValues.ToValue(column[r], type, $"entity_rows.{name}", r);
                if (key is not null && values[r] is null)
                {
                    throw new InputValidationException($"entity_rows.{name}", $"row {r}: a join key cannot be null");
                }
            }
            names.Add(name);
            types.Add(type);
            converted.Add(values);
        }
        var definitions = names.Select((n, i) => $"{DuckSql.Identifier(n)} {(types[i] == LogicalType.Timestamp ? "TIMESTAMP" : OfflineStore.SqlType(types[i]))}")
            .Prepend("__row BIGINT");
        using (var create = db.CreateCommand())
        {
            create.CommandText = $"CREATE TEMP TABLE entity_df ({string.Join(", ", definitions)})";
            create.ExecuteNonQuery();
        }
        using (var appender = db.CreateAppender("entity_df"))
        {
            for (var r = 0; r < rowCount; r++)
            {
                var row = appender.CreateRow().AppendValue((long)r);
                for (var c = 0; c < converted.Count; c++)
                {
                    switch (converted[c][r])
                    {
                        case null: row.AppendNullValue(); break;
                        case long t when types[c] == LogicalType.Timestamp: row.AppendValue(FeatureValues.ToDateTimeOffset(t).UtcDateTime); break;
                        case double d: row.AppendValue(d); break;
                        case long l: row.AppendValue(l); break;
                        case string s: row.AppendValue(s); break;
                        case bool b: row.AppendValue(b); break;
                    }
                }
                row.EndRow();
            }
        }
        return names;
    }

    private static LogicalType InferType(string name, List<object?> column)
    {
        LogicalType? type = null;
        for (var r = 0; r < column.Count; r++)
        {
            var value = column[r];
            LogicalType? kind = value switch
            {
                null or JsonElement { ValueKind: JsonValueKind.Null } => null,
                JsonElement { ValueKind: JsonValueKind.Number } e => e.TryGetInt64(out _) ? LogicalType.Int64 : LogicalType.Float64,
                JsonElement { ValueKind: JsonValueKind.String } => LogicalType.String,
                JsonElement { ValueKind: JsonValueKind.True or JsonValueKind.False } => LogicalType.Bool,
                double or float => LogicalType.Float64,
                long or int => LogicalType.Int64,
                string => LogicalType.String,
                bool => LogicalType.Bool,
                _ => throw new InputValidationException($"entity_rows.{name}", $"row {r}: values must be numbers, strings, bools or null"),
            };
            if (kind is null)
            {
                continue;
            }
            type = (type, kind) switch
            {
                (null, _) => kind,
                _ when type == kind => type,
                (LogicalType.Int64, LogicalType.Float64) or (LogicalType.Float64, LogicalType.Int64) => LogicalType.Float64,
                _ => throw new InputValidationException($"entity_rows.{name}", $"row {r}: mixes {WireNames.Of(type.Value)} and {WireNames.Of(kind.Value)} values"),
            };
        }
        return type ?? LogicalType.String;
    }

    /// <summary>Loads a dataset version's rows into <c>entity_df</c>, join keys cast to their declared types.</summary>
    private async Task<List<string>> LoadDatasetAsync(DuckDBConnection db, DatasetVersion dataset, FeaturePlan plan, string work, CancellationToken cancellationToken)
    {
        var file = Path.Combine(work, "entities.parquet");
        await using (var source = await data.OpenParquetAsync(dataset.Id, cancellationToken))
        await using (var target = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            await source.CopyToAsync(target, cancellationToken);
        }
        var names = dataset.Schema.Select(c => c.Name).ToList();
        foreach (var required in plan.JoinKeys.Select(k => k.Name).Append(OfflineStore.EventTimestamp).Concat(plan.RequestColumns))
        {
            if (!names.Contains(required))
            {
                throw new InputValidationException("entity_dataset_id", $"dataset {dataset.Id} has no column '{required}' (columns: {string.Join(", ", names)})");
            }
        }
        if (names.Any(n => n.StartsWith("__", StringComparison.Ordinal)))
        {
            throw new InputValidationException("entity_dataset_id", "column names starting with '__' are reserved");
        }
        var casts = plan.JoinKeys.Select(k => $"CAST({DuckSql.Identifier(k.Name)} AS {OfflineStore.SqlType(k.Type)}) AS {DuckSql.Identifier(k.Name)}")
            .Append("CAST(event_timestamp AS TIMESTAMP) AS event_timestamp");
        try
        {
            await ExecuteAsync(db, $"CREATE TEMP TABLE entity_df AS SELECT row_number() OVER () - 1 AS __row, * REPLACE ({string.Join(", ", casts)}) FROM read_parquet({DuckSql.Literal(file)})", cancellationToken);
        }
        catch (DuckDBException e)
        {
            throw new InputValidationException("entity_dataset_id", $"dataset {dataset.Id} cannot be used as entity rows: {e.Message.Split('\n', 2)[0]}");
        }
        if (await ScalarAsync(db, "SELECT count(*) FROM entity_df WHERE event_timestamp IS NULL", cancellationToken) > 0)
        {
            throw new InputValidationException("entity_dataset_id", $"dataset {dataset.Id} has rows without event_timestamp");
        }
        return names;
    }

    private static async Task ExecuteAsync(DuckDBConnection db, string sql, CancellationToken cancellationToken)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<long> ScalarAsync(DuckDBConnection db, string sql, CancellationToken cancellationToken)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }
}
