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
        var input = Check(repository, source, request.Df ?? throw new InputValidationException("df", "is required: column name -> values"), createdTs);
        var views = repository.ViewsOf(source).ToList();
        // A large push goes a part at a time: each part is checked, typed and turned into rows, written, and dropped, so
        // the rows of the whole push never exist at once (a million-row push held them all, several times over). Every
        // row is checked before anything is written: the offline pass writes to staging tables committed only at its
        // end, and an online-only push is checked in a first pass. A push of one part is parsed once.
        PushBatch? single = input.Rows <= PartRows ? Parse(input, 0, input.Rows) : null;
        IEnumerable<PushBatch> Parts()
        {
            if (single is not null)
            {
                yield return single;
                yield break;
            }
            for (var start = 0; start < input.Rows; start += PartRows)
            {
                yield return Parse(input, start, Math.Min(PartRows, input.Rows - start));
            }
        }
        long minTs = long.MaxValue, maxTs = long.MinValue;
        void Span(PushBatch batch)
        {
            minTs = Math.Min(minTs, batch.EventTs.Min());
            maxTs = Math.Max(maxTs, batch.EventTs.Max());
        }
        var written = new List<string>();
        try
        {
            if (to is PushTargets.Offline or PushTargets.OnlineAndOffline)
            {
                var appends = new List<OfflineStore.OfflineAppend>(views.Count);
                try
                {
                    foreach (var view in views)
                    {
                        appends.Add(offline.BeginAppend(view));
                    }
                    foreach (var batch in Parts())
                    {
                        Span(batch);
                        for (var v = 0; v < views.Count; v++)
                        {
                            appends[v].Add(batch.Keys, batch.RowsFor(views[v]));
                        }
                    }
                    foreach (var append in appends)
                    {
                        written.Add(append.Commit());
                    }
                }
                finally
                {
                    foreach (var append in appends)
                    {
                        append.Dispose();
                    }
                }
            }
            else
            {
                foreach (var batch in Parts())
                {
                    Span(batch);
                }
            }
            if (to is PushTargets.Online or PushTargets.OnlineAndOffline)
            {
                foreach (var batch in Parts())
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
            return new PushResult(source.Name, input.Rows, to, names);
        }
        await events.PublishAsync(EventTopics.FeaturesComputed, source.Name,
            new FeaturesComputedEvent(source.Name, names, input.Rows, to, FeatureValues.FormatTimestamp(minTs), FeatureValues.FormatTimestamp(maxTs)), cancellationToken);
        return new PushResult(source.Name, input.Rows, to, names);
    }

    /// <summary>Rows a push is checked, typed and written in at a time.</summary>
    public const int PartRows = 65_536;

    /// <summary>A push's columns, checked as columns (names, lengths, row count), with what typing its rows needs.</summary>
    private sealed record PushInput(Entity Entity, PushSource Source, FeatureColumns Df, List<object?>? CreatedColumn, IReadOnlyList<long>? CreatedTs,
        int Rows, long Now, long Latest, TimeSpan Skew);

    private PushInput Check(FeatureRepository repository, PushSource source, FeatureColumns df, IReadOnlyList<long>? createdTs)
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
        if (createdTs is not null && createdTs.Count != rows)
        {
            throw new ArgumentException($"{createdTs.Count} created times for {rows} rows", nameof(createdTs));
        }
        var skew = options?.Value.MaxFutureSkew ?? TimeSpan.FromDays(1);
        var now = time.GetUtcNow();
        return new PushInput(entity, source, df, createdColumn, createdTs, rows, FeatureValues.Micros(now), FeatureValues.Micros(now + skew), skew);
    }

    /// <summary>Rows [<paramref name="start"/>, start + <paramref name="count"/>) typed and checked; the created time of
    /// row i is its <c>created</c> value when the push has that column (Feast's push payload does; a source declaring a
    /// feature of that name keeps it as a feature), else the push time plus i µs, so each pushed row has a distinct
    /// identity and, within a push, a later row wins a tie. Errors name the row as the push numbers it.</summary>
    private static PushBatch Parse(PushInput input, int start, int count)
    {
        var (entity, source, df) = (input.Entity, input.Source, input.Df);
        var keys = new object?[count][];
        var entityKeys = new string[count];
        for (var i = 0; i < count; i++)
        {
            var r = start + i;
            keys[i] = new object?[entity.JoinKeys.Count];
            for (var k = 0; k < entity.JoinKeys.Count; k++)
            {
                var key = entity.JoinKeys[k];
                var value = FeatureValues.ToValue(df[key.Name][r], key.Type, $"df.{key.Name}", r)
                    ?? throw new InputValidationException($"df.{key.Name}", $"row {r}: a join key cannot be null");
                if (value is string s && s.Contains(FeatureValues.KeySeparator, StringComparison.Ordinal))
                {
                    throw new InputValidationException($"df.{key.Name}", $"row {r}: a join key cannot contain U+001F");
                }
                keys[i][k] = value;
            }
            entityKeys[i] = FeatureValues.EntityKey(keys[i]);
        }
        var eventTs = new long[count];
        var timestamps = df[OfflineStore.EventTimestamp];
        for (var i = 0; i < count; i++)
        {
            var r = start + i;
            eventTs[i] = FeatureValues.ToTimestamp(timestamps[r], $"df.{OfflineStore.EventTimestamp}", r);
            if (eventTs[i] > input.Latest)
            {
                throw new InputValidationException($"df.{OfflineStore.EventTimestamp}",
                    $"row {r}: {FeatureValues.FormatTimestamp(eventTs[i])} is more than {input.Skew} ahead of the server's clock (Strata:Features:MaxFutureSkew)");
            }
        }
        var columns = new Dictionary<string, object?[]>(StringComparer.Ordinal);
        foreach (var field in source.Columns)
        {
            var raw = df[field.Name];
            var typed = new object?[count];
            for (var i = 0; i < count; i++)
            {
                typed[i] = FeatureValues.ToValue(raw[start + i], field.Type, $"df.{field.Name}", start + i);
            }
            columns[field.Name] = typed;
        }
        var created = new long[count];
        for (var i = 0; i < count; i++)
        {
            var r = start + i;
            if (input.CreatedTs is null && input.CreatedColumn is not null)
            {
                created[i] = FeatureValues.ToTimestamp(input.CreatedColumn[r], $"df.{OfflineStore.Created}", r);
                if (created[i] > input.Latest)
                {
                    throw new InputValidationException($"df.{OfflineStore.Created}",
                        $"row {r}: {FeatureValues.FormatTimestamp(created[i])} is more than {input.Skew} ahead of the server's clock (Strata:Features:MaxFutureSkew)");
                }
                continue;
            }
            created[i] = input.CreatedTs?[r] ?? input.Now + r;
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
