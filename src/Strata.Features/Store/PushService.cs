using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Features.Offline;
using Strata.Features.Online;
using Strata.Features.Definitions;

namespace Strata.Features.Store;

/// <summary><c>push</c>: validates every column and row of a push before anything is written, then writes each view
/// fed by the source to the offline store, the online store, or both. A push is all-or-nothing: any bad value rejects
/// the whole push, and offline files already written are removed if a later write fails.</summary>
public sealed class PushService(IFeatureRepositorySource definitions, OfflineStore offline, IOnlineStore online, IEventPublisher events, TimeProvider time,
    Microsoft.Extensions.Options.IOptions<FeatureStoreOptions>? options = null)
{
    public const int MaxRows = 1_000_000;

    public Task<PushResult> PushAsync(PushRequest request, CancellationToken cancellationToken) => PushAsync(request, announce: true, cancellationToken);

    /// <param name="announce">Publish <c>features.computed</c> for this push (the streaming path announces its
    /// offline flushes, not every event).</param>
    public Task<PushResult> PushAsync(PushRequest request, bool announce, CancellationToken cancellationToken) =>
        PushAsync(request, announce, createdTs: null, cancellationToken);

    /// <param name="createdTs">The created time of each row (µs since the epoch), which with the entity key and event
    /// time is the row's identity: the bus's handlers derive it from the event that carried the row, so writing a
    /// redelivered or replayed event again changes nothing in either store (an inbox kept with the writes). Null: the
    /// push time plus the row index.</param>
    public async Task<PushResult> PushAsync(PushRequest request, bool announce, IReadOnlyList<long>? createdTs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var repository = definitions.Current;
        var source = repository.FindSource(request.PushSourceName ?? throw new InputValidationException("push_source_name", "is required"))
            ?? throw new InputValidationException("push_source_name",
                $"unknown push source '{request.PushSourceName}' (sources: {string.Join(", ", repository.Sources.Select(s => s.Name).Order(StringComparer.Ordinal))})");
        var to = request.To ?? PushTargets.Online;
        if (to is not (PushTargets.Online or PushTargets.Offline or PushTargets.OnlineAndOffline))
        {
            throw new InputValidationException("to", $"'{to}' is not one of online, offline, online_and_offline");
        }
        var batch = Parse(repository, source, request.Df ?? throw new InputValidationException("df", "is required: column name -> values"), createdTs);
        var views = repository.ViewsOf(source).ToList();
        var written = new List<string>();
        try
        {
            foreach (var view in views)
            {
                var rows = batch.RowsFor(view);
                if (to is PushTargets.Offline or PushTargets.OnlineAndOffline)
                {
                    written.Add(offline.Append(view, batch.Keys, rows));
                }
            }
            if (to is PushTargets.Online or PushTargets.OnlineAndOffline)
            {
                foreach (var view in views)
                {
                    var rows = batch.RowsFor(view);
                    if (view is AggregateFeatureView aggregate)
                    {
                        await online.AppendEventsAsync(aggregate, rows, cancellationToken);
                    }
                    else
                    {
                        await online.WriteLatestAsync(view, rows, cancellationToken);
                    }
                }
            }
        }
        catch
        {
            foreach (var file in written)
            {
                File.Delete(file);
            }
            throw;
        }
        var names = views.Select(v => v.Name).ToList();
        if (!announce)
        {
            return new PushResult(source.Name, batch.Count, to, names);
        }
        await events.PublishAsync(EventTopics.FeaturesComputed, source.Name,
            new FeaturesComputedEvent(source.Name, names, batch.Count, to,
                FeatureValues.FormatTimestamp(batch.EventTs.Min()), FeatureValues.FormatTimestamp(batch.EventTs.Max())), cancellationToken);
        return new PushResult(source.Name, batch.Count, to, names);
    }

    /// <summary>Every column typed and checked; the created time of row i is its <c>created</c> value when the push has
    /// that column (Feast's push payload does; a source declaring a feature of that name keeps it as a feature), else
    /// the push time plus i µs, so each pushed row has a distinct identity and, within a push, a later row wins a tie.</summary>
    private PushBatch Parse(FeatureRepository repository, PushSource source, FeatureColumns df, IReadOnlyList<long>? createdTs)
    {
        var entity = repository.Entity(source.Entity);
        var expected = entity.JoinKeys.Select(k => k.Name).Append(OfflineStore.EventTimestamp).Concat(source.Columns.Select(c => c.Name)).ToList();
        var createdColumn = !expected.Contains(OfflineStore.Created) && df.TryGetValue(OfflineStore.Created, out var givenCreated) ? givenCreated : null;
        foreach (var name in df.Keys)
        {
            if (!expected.Contains(name) && !(name == OfflineStore.Created && createdColumn is not null))
            {
                throw new InputValidationException($"df.{name}", $"is not a column of push source '{source.Name}' (columns: {string.Join(", ", expected)})");
            }
        }
        var rows = FeatureValues.RowCount(df, "df");
        foreach (var name in expected)
        {
            if (!df.ContainsKey(name))
            {
                throw new InputValidationException($"df.{name}", $"is required by push source '{source.Name}'");
            }
        }
        if (rows <= 0)
        {
            throw new InputValidationException("df", "has no rows");
        }
        if (rows > MaxRows)
        {
            throw new InputValidationException("df", $"{rows} rows is more than {MaxRows} per push");
        }
        var keys = new object?[rows][];
        var entityKeys = new string[rows];
        for (var r = 0; r < rows; r++)
        {
            keys[r] = new object?[entity.JoinKeys.Count];
            for (var k = 0; k < entity.JoinKeys.Count; k++)
            {
                var key = entity.JoinKeys[k];
                var value = FeatureValues.ToValue(df[key.Name][r], key.Type, $"df.{key.Name}", r)
                    ?? throw new InputValidationException($"df.{key.Name}", $"row {r}: a join key cannot be null");
                if (value is string s && s.Contains(FeatureValues.KeySeparator, StringComparison.Ordinal))
                {
                    throw new InputValidationException($"df.{key.Name}", $"row {r}: a join key cannot contain U+001F");
                }
                keys[r][k] = value;
            }
            entityKeys[r] = FeatureValues.EntityKey(keys[r]);
        }
        var eventTs = new long[rows];
        var timestamps = df[OfflineStore.EventTimestamp];
        var skew = options?.Value.MaxFutureSkew ?? TimeSpan.FromDays(1);
        var latest = FeatureValues.Micros(time.GetUtcNow() + skew);
        for (var r = 0; r < rows; r++)
        {
            eventTs[r] = FeatureValues.ToTimestamp(timestamps[r], $"df.{OfflineStore.EventTimestamp}", r);
            if (eventTs[r] > latest)
            {
                throw new InputValidationException($"df.{OfflineStore.EventTimestamp}",
                    $"row {r}: {FeatureValues.FormatTimestamp(eventTs[r])} is more than {skew} ahead of the server's clock (Strata:Features:MaxFutureSkew)");
            }
        }
        var columns = new Dictionary<string, object?[]>(StringComparer.Ordinal);
        foreach (var field in source.Columns)
        {
            var raw = df[field.Name];
            var typed = new object?[rows];
            for (var r = 0; r < rows; r++)
            {
                typed[r] = FeatureValues.ToValue(raw[r], field.Type, $"df.{field.Name}", r);
            }
            columns[field.Name] = typed;
        }
        if (createdTs is not null && createdTs.Count != rows)
        {
            throw new ArgumentException($"{createdTs.Count} created times for {rows} rows", nameof(createdTs));
        }
        var created = new long[rows];
        var now = FeatureValues.Micros(time.GetUtcNow());
        for (var r = 0; r < rows; r++)
        {
            if (createdTs is null && createdColumn is not null)
            {
                created[r] = FeatureValues.ToTimestamp(createdColumn[r], $"df.{OfflineStore.Created}", r);
                if (created[r] > latest)
                {
                    throw new InputValidationException($"df.{OfflineStore.Created}",
                        $"row {r}: {FeatureValues.FormatTimestamp(created[r])} is more than {skew} ahead of the server's clock (Strata:Features:MaxFutureSkew)");
                }
                continue;
            }
            created[r] = createdTs?[r] ?? now + r;
        }
        return new PushBatch(keys, entityKeys, eventTs, created, columns);
    }

    private sealed class PushBatch(object?[][] keys, string[] entityKeys, long[] eventTs, long[] createdTs, Dictionary<string, object?[]> columns)
    {
        private readonly Dictionary<string, IReadOnlyList<FeatureRow>> _rows = new(StringComparer.Ordinal);

        public IReadOnlyList<object?[]> Keys => keys;

        public IReadOnlyList<long> EventTs => eventTs;

        public int Count => eventTs.Length;

        public IReadOnlyList<FeatureRow> RowsFor(EntityFeatureView view)
        {
            if (_rows.TryGetValue(view.Name, out var cached))
            {
                return cached;
            }
            var stored = view.StoredColumns.Select(c => columns[c.Name]).ToArray();
            var rows = new FeatureRow[eventTs.Length];
            for (var r = 0; r < rows.Length; r++)
            {
                var values = new object?[stored.Length];
                for (var c = 0; c < stored.Length; c++)
                {
                    values[c] = stored[c][r];
                }
                rows[r] = new FeatureRow(entityKeys[r], eventTs[r], createdTs[r], values);
            }
            _rows[view.Name] = rows;
            return rows;
        }
    }
}
