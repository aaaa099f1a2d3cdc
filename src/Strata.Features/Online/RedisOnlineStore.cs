using System.Globalization;
using StackExchange.Redis;
using Strata.ServiceDefaults;
using Strata.Features.Definitions;
using Strata.Features.Store;

namespace Strata.Features.Online;

/// <summary>The Redis online store. One hash per entity (<c>{prefix}{entity}:{key}</c>) with one field per stored view
/// holding the encoded row; one sorted set per entity and aggregate view (<c>{prefix}{view}:{key}</c>, scored by event
/// time) holding its recent events. A read of any number of entities and views is one pipelined round trip (one HMGET
/// per entity, one ZRANGEBYSCORE per aggregate); writes of the latest row go through a Lua script that keeps the newer
/// row, so a late write never moves a value back in time.</summary>
public sealed class RedisOnlineStore : IOnlineStore, IDisposable
{
    private const int WriteChunk = 512;

    // KEYS: hashes; ARGV[1]: field; ARGV[1 + i]: the encoded row for KEYS[i]. Bytes 2..17 of a row are its
    // (event, created) times in an order-preserving encoding, so string comparison is time comparison. A field no one
    // holds yet costs one HSETNX (a bulk load into an empty store); otherwise the newer row is kept.
    private const string WriteLatestScript = """
        local field = ARGV[1]
        local n = 0
        for i = 1, #KEYS do
          local payload = ARGV[i + 1]
          if redis.call('HSETNX', KEYS[i], field, payload) == 1 then
            n = n + 1
          elseif string.sub(payload, 2, 17) >= string.sub(redis.call('HGET', KEYS[i], field), 2, 17) then
            redis.call('HSET', KEYS[i], field, payload)
            n = n + 1
          end
        end
        return n
        """;

    private readonly Task<IConnectionMultiplexer> _connection;
    private readonly bool _ownsConnection;
    private readonly string _prefix;
    private readonly IFeatureRepositorySource _repository;

    /// <summary>A store on the process's shared connection (<see cref="RedisConnections"/>), which it does not close.</summary>
    public RedisOnlineStore(Task<IConnectionMultiplexer> connection, string prefix, IFeatureRepositorySource repository)
    {
        _connection = connection ?? throw new ArgumentNullException(nameof(connection));
        _repository = repository ?? throw new ArgumentNullException(nameof(repository));
        _prefix = prefix;
    }

    /// <summary>A store with a connection of its own, closed with it.</summary>
    public RedisOnlineStore(string configuration, string prefix, IFeatureRepositorySource repository)
        : this(RedisConnections.ConnectAsync(configuration), prefix, repository) => _ownsConnection = true;

    /// <summary>The database once connected (a completed task after the first call: no wait on the hot path).</summary>
    private ValueTask<IDatabase> DatabaseAsync() =>
        _connection.IsCompletedSuccessfully ? new(_connection.Result.GetDatabase()) : ConnectedAsync();

    private async ValueTask<IDatabase> ConnectedAsync() => (await _connection).GetDatabase();

    public string Kind => "redis";

    private RedisKey HashKey(string entity, string key) => $"{_prefix}{entity}:{key}";

    private RedisKey EventsKey(string view, string key) => $"{_prefix}{view}:{key}";

    public async Task<int> WriteLatestAsync(EntityFeatureView view, IReadOnlyList<FeatureRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(rows);
        var db = await DatabaseAsync();
        var pending = new List<Task<RedisResult>>();
        for (var start = 0; start < rows.Count; start += WriteChunk)
        {
            var count = Math.Min(WriteChunk, rows.Count - start);
            var keys = new RedisKey[count];
            var args = new RedisValue[count + 1];
            args[0] = view.Name;
            for (var i = 0; i < count; i++)
            {
                var row = rows[start + i];
                keys[i] = HashKey(view.Entity, row.EntityKey);
                args[i + 1] = FeatureRowCodec.Encode(row);
            }
            pending.Add(db.ScriptEvaluateAsync(WriteLatestScript, keys, args));
            if (pending.Count >= 16)
            {
                await Task.WhenAll(pending);
            }
        }
        var results = await Task.WhenAll(pending);
        return results.Sum(r => (int)r);
    }

    public async Task AppendEventsAsync(AggregateFeatureView view, IReadOnlyList<FeatureRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(rows);
        var retention = FeatureValues.Micros(view.MaxWindow);
        var newest = new Dictionary<string, long>(StringComparer.Ordinal);
        var batch = (await DatabaseAsync()).CreateBatch();
        var pending = new List<Task>(rows.Count + 16);
        foreach (var row in rows)
        {
            newest[row.EntityKey] = Math.Max(newest.GetValueOrDefault(row.EntityKey, long.MinValue), row.EventTs);
            // The member is the encoded row, which starts with (event time, created time), the event's identity:
            // appending an event again (a replay, a re-materialisation) changes nothing.
            pending.Add(batch.SortedSetAddAsync(EventsKey(view.Name, row.EntityKey), FeatureRowCodec.Encode(row), row.EventTs));
        }
        foreach (var (key, ts) in newest)
        {
            pending.Add(batch.SortedSetRemoveRangeByScoreAsync(EventsKey(view.Name, key), double.NegativeInfinity, ts - retention, Exclude.None));
        }
        batch.Execute();
        await Task.WhenAll(pending);
    }

    public async Task<OnlineReadResult[]> ReadAsync(IReadOnlyList<OnlineRead> reads, long asOf, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reads);
        var batch = (await DatabaseAsync()).CreateBatch();
        // Stored views of one entity share a hash: one HMGET per (entity, key) with every requested view as a field.
        var hashReads = new Dictionary<(string Entity, string Key), (List<(int Read, int Row)> Targets, List<RedisValue> Fields)>();
        var eventReads = new List<(int Read, int Row, Task<RedisValue[]> Task)>();
        for (var r = 0; r < reads.Count; r++)
        {
            var read = reads[r];
            for (var i = 0; i < read.EntityKeys.Length; i++)
            {
                if (read.EntityKeys[i] is not { } key)
                {
                    continue;
                }
                if (read.View is AggregateFeatureView aggregate)
                {
                    var from = asOf - FeatureValues.Micros(aggregate.MaxWindow);
                    eventReads.Add((r, i, batch.SortedSetRangeByScoreAsync(EventsKey(aggregate.Name, key), from, asOf, Exclude.Start)));
                }
                else
                {
                    if (!hashReads.TryGetValue((read.View.Entity, key), out var entry))
                    {
                        entry = ([], []);
                        hashReads[(read.View.Entity, key)] = entry;
                    }
                    entry.Targets.Add((r, i));
                    entry.Fields.Add(read.View.Name);
                }
            }
        }
        var hashTasks = hashReads.Select(p => (p.Value.Targets, Task: batch.HashGetAsync(HashKey(p.Key.Entity, p.Key.Key), [.. p.Value.Fields]))).ToList();
        batch.Execute();
        var results = new OnlineReadResult[reads.Count];
        var latest = new FeatureRow?[reads.Count][];
        var events = new IReadOnlyList<FeatureRow>[reads.Count][];
        for (var r = 0; r < reads.Count; r++)
        {
            if (reads[r].View is AggregateFeatureView)
            {
                events[r] = new IReadOnlyList<FeatureRow>[reads[r].EntityKeys.Length];
                Array.Fill(events[r], []);
            }
            else
            {
                latest[r] = new FeatureRow?[reads[r].EntityKeys.Length];
            }
        }
        foreach (var (targets, task) in hashTasks)
        {
            var values = await task.WaitAsync(cancellationToken);
            for (var t = 0; t < targets.Count; t++)
            {
                if (values[t].HasValue)
                {
                    var (r, i) = targets[t];
                    latest[r][i] = FeatureRowCodec.Decode(reads[r].EntityKeys[i]!, (byte[])values[t]!, reads[r].View.StoredColumns);
                }
            }
        }
        foreach (var (r, i, task) in eventReads)
        {
            var members = await task.WaitAsync(cancellationToken);
            var rows = new FeatureRow[members.Length];
            for (var m = 0; m < members.Length; m++)
            {
                rows[m] = FeatureRowCodec.Decode(reads[r].EntityKeys[i]!, (byte[])members[m]!, reads[r].View.StoredColumns);
            }
            events[r][i] = rows;
        }
        for (var r = 0; r < reads.Count; r++)
        {
            results[r] = new OnlineReadResult(latest[r], events[r]);
        }
        return results;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"redis {(_connection.IsCompletedSuccessfully ? _connection.Result.Configuration : "(connecting)")} prefix '{_prefix}' ({_repository.Current.Views.Count} views)");

    public void Dispose()
    {
        if (_ownsConnection && _connection.IsCompletedSuccessfully)
        {
            _connection.Result.Dispose();
        }
    }
}
