using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using DuckDB.NET.Data;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Features.Offline;
using Strata.Features.Online;
using Strata.ServiceDefaults;
using Strata.Features.Definitions;

namespace Strata.Features.Store;

/// <summary>Materialisation: the latest row per entity with event time in [start, end] of each stored view (and, for an
/// aggregate view, the events of its longest window before <c>end</c>) copied from the offline store into the online
/// store. Writes keep the newer row, so materialising an old interval never overwrites fresher pushed values. One
/// materialisation per view at a time (another answers 409); incremental runs continue where the last one ended.</summary>
public sealed class Materializer(IFeatureRepositorySource definitions, OfflineStore offline, IOnlineStore online, IEventPublisher events, string statePath)
{
    private FeatureRepository Repository => definitions.Current;

    private const int Chunk = 10_000;
    private static readonly long Beginning = FeatureValues.Micros(new DateTimeOffset(1, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ConcurrentDictionary<string, byte> _running = new(StringComparer.Ordinal);
    private readonly Lock _stateLock = new();

    /// <summary>Test seam: awaited as each view's copy starts (the view is marked running by then).</summary>
    internal Func<string, Task>? OnViewStarting { get; set; }

    public Task<MaterializeResult> MaterializeAsync(MaterializeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var start = FeatureValues.ParseTimestamp(request.StartTs ?? throw new InputValidationException("start_ts", "is required"), "start_ts");
        var end = FeatureValues.ParseTimestamp(request.EndTs ?? throw new InputValidationException("end_ts", "is required"), "end_ts");
        if (start > end)
        {
            throw new InputValidationException("start_ts", "is after end_ts");
        }
        return RunAsync(Views(request.FeatureViews), _ => start, end, cancellationToken);
    }

    public Task<MaterializeResult> MaterializeIncrementalAsync(MaterializeIncrementalRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var end = FeatureValues.ParseTimestamp(request.EndTs ?? throw new InputValidationException("end_ts", "is required"), "end_ts");
        var state = LoadState();
        return RunAsync(Views(request.FeatureViews), view =>
            state.TryGetValue(view.Name, out var last) ? last
            : view.Ttl is { } ttl ? end - FeatureValues.Micros(ttl)
            : Beginning, end, cancellationToken);
    }

    private List<EntityFeatureView> Views(IReadOnlyList<string>? names)
    {
        if (names is null || names.Count == 0)
        {
            return [.. Repository.Views.OrderBy(v => v.Name, StringComparer.Ordinal)];
        }
        return [.. names.Distinct(StringComparer.Ordinal).Select(n => Repository.FindView(n ?? string.Empty)
            ?? throw new InputValidationException("feature_views", Repository.FindOnDemand(n ?? string.Empty) is null
                ? $"unknown feature view '{n}'"
                : $"'{n}' is an on-demand view; it is computed per request, not materialised"))];
    }

    private async Task<MaterializeResult> RunAsync(List<EntityFeatureView> views, Func<EntityFeatureView, long> startOf, long end, CancellationToken cancellationToken)
    {
        var taken = new List<string>();
        try
        {
            foreach (var view in views)
            {
                if (!_running.TryAdd(view.Name, 0))
                {
                    throw new ResourceConflictException($"a materialisation of feature view '{view.Name}' is already running");
                }
                taken.Add(view.Name);
            }
            var clock = Stopwatch.StartNew();
            var results = new List<ViewMaterialization>();
            foreach (var view in views)
            {
                if (OnViewStarting is { } hook)
                {
                    await hook(view.Name);
                }
                var viewClock = Stopwatch.StartNew();
                var start = Math.Max(Beginning, startOf(view));
                if (view is AggregateFeatureView window)
                {
                    // Only events inside the longest window before end can matter online.
                    start = Math.Max(start, end - FeatureValues.Micros(window.MaxWindow));
                }
                var rows = view is AggregateFeatureView aggregate
                    ? await CopyEventsAsync(aggregate, start, end, cancellationToken)
                    : await CopyLatestAsync(view, start, end, cancellationToken);
                SaveState(view.Name, end);
                var seconds = viewClock.Elapsed.TotalSeconds;
                results.Add(new ViewMaterialization(view.Name, FeatureValues.FormatTimestamp(start), FeatureValues.FormatTimestamp(end), rows,
                    seconds > 0 ? Math.Round(rows / seconds) : 0));
                await events.PublishAsync(EventTopics.FeaturesComputed, view.Name,
                    new FeaturesComputedEvent(view.Source, [view.Name], checked((int)Math.Min(rows, int.MaxValue)), "online",
                        FeatureValues.FormatTimestamp(start), FeatureValues.FormatTimestamp(end)), cancellationToken);
            }
            return new MaterializeResult(results, clock.Elapsed.TotalSeconds);
        }
        finally
        {
            foreach (var name in taken)
            {
                _running.TryRemove(name, out _);
            }
        }
    }

    private async Task<long> CopyLatestAsync(EntityFeatureView view, long start, long end, CancellationToken cancellationToken)
    {
        var keys = Repository.Entity(view.Entity).JoinKeys;
        var keyList = string.Join(", ", keys.Select(k => DuckSql.Identifier(k.Name)));
        var columns = view.StoredColumns.Select(c => DuckSql.Identifier(c.Name)).ToList();
        using var snapshot = offline.Read(view);
        var sql = $"SELECT {keyList}, epoch_us(event_timestamp), epoch_us(created_timestamp){string.Concat(columns.Select(c => ", " + c))} " +
            $"FROM {snapshot.Sql} WHERE event_timestamp >= make_timestamp({start}) AND event_timestamp <= make_timestamp({end}) " +
            $"QUALIFY row_number() OVER (PARTITION BY {keyList} ORDER BY event_timestamp DESC, created_timestamp DESC) = 1";
        return await StreamAsync(view, keys.Count, sql, rows => online.WriteLatestAsync(view, rows, cancellationToken), cancellationToken);
    }

    private async Task<long> CopyEventsAsync(AggregateFeatureView view, long startExclusive, long end, CancellationToken cancellationToken)
    {
        var keys = Repository.Entity(view.Entity).JoinKeys;
        var columns = view.StoredColumns.Select(c => DuckSql.Identifier(c.Name)).ToList();
        using var snapshot = offline.Read(view);
        var sql = $"SELECT {string.Join(", ", keys.Select(k => DuckSql.Identifier(k.Name)))}, epoch_us(event_timestamp), epoch_us(created_timestamp){string.Concat(columns.Select(c => ", " + c))} " +
            $"FROM {snapshot.Sql} WHERE event_timestamp > make_timestamp({startExclusive}) AND event_timestamp <= make_timestamp({end}) ORDER BY event_timestamp";
        return await StreamAsync(view, keys.Count, sql, rows => online.AppendEventsAsync(view, rows, cancellationToken), cancellationToken);
    }

    /// <summary>Reads the query in chunks and writes each chunk while the next one is read.</summary>
    private static async Task<long> StreamAsync(EntityFeatureView view, int keyCount, string sql, Func<IReadOnlyList<FeatureRow>, Task> write, CancellationToken cancellationToken)
    {
        using var db = new DuckDBConnection("Data Source=:memory:");
        await db.OpenAsync(cancellationToken);
        using var command = db.CreateCommand();
        command.CommandText = sql;
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var total = 0L;
        var chunk = new List<FeatureRow>(Chunk);
        Task pending = Task.CompletedTask;
        var parts = new object?[keyCount];
        var types = view.StoredColumns.Select(c => c.Type).ToArray();
        while (await reader.ReadAsync(cancellationToken))
        {
            for (var k = 0; k < keyCount; k++)
            {
                parts[k] = reader.GetValue(k) switch
                {
                    int i => (long)i,
                    var v => v,
                };
            }
            var values = new object?[types.Length];
            for (var c = 0; c < types.Length; c++)
            {
                var ordinal = keyCount + 2 + c;
                values[c] = reader.IsDBNull(ordinal) ? null : types[c] switch
                {
                    LogicalType.Float64 => reader.GetDouble(ordinal),
                    LogicalType.Int64 => reader.GetInt64(ordinal),
                    LogicalType.Bool => reader.GetBoolean(ordinal),
                    _ => reader.GetString(ordinal),
                };
            }
            chunk.Add(new FeatureRow(FeatureValues.EntityKey(parts), reader.GetInt64(keyCount), reader.GetInt64(keyCount + 1), values));
            if (chunk.Count == Chunk)
            {
                await pending;
                pending = write(chunk);
                total += chunk.Count;
                chunk = new List<FeatureRow>(Chunk);
            }
        }
        await pending;
        if (chunk.Count > 0)
        {
            await write(chunk);
            total += chunk.Count;
        }
        return total;
    }

    private Dictionary<string, long> LoadState()
    {
        lock (_stateLock)
        {
            if (!File.Exists(statePath))
            {
                return new Dictionary<string, long>(StringComparer.Ordinal);
            }
            return JsonSerializer.Deserialize<Dictionary<string, long>>(File.ReadAllBytes(statePath), StrataJson.Options)
                ?? new Dictionary<string, long>(StringComparer.Ordinal);
        }
    }

    private void SaveState(string view, long end)
    {
        lock (_stateLock)
        {
            var state = LoadState();
            state[view] = Math.Max(end, state.GetValueOrDefault(view, long.MinValue));
            var temp = statePath + ".tmp";
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(state, StrataJson.Options));
            File.Move(temp, statePath, overwrite: true);
        }
    }
}
