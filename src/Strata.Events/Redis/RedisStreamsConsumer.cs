using System.Collections.Concurrent;
using System.Globalization;
using StackExchange.Redis;
using Strata.Events.Transport;
using Strata.Events.Transport.Partitioning;

namespace Strata.Events.Redis;

/// <summary>A member of a Redis consumer group, reading the partitions (streams) it holds a lease on. A partition just
/// taken over is first emptied of what former holders left unacknowledged (<c>XAUTOCLAIM</c> from the start, in order)
/// before its new entries are read; entries of its own left unacknowledged past the ack wait are claimed again (at most
/// every tenth of the ack wait). New entries come from one <c>XREADGROUP</c> over every held partition, blocking up to
/// the wait on the member's own connection.</summary>
internal sealed class RedisStreamsConsumer : IEventConsumer, IPartitionReader
{
    private readonly string _topic;
    private readonly string[] _streams;
    private readonly Dictionary<string, int> _partitionOf;
    private readonly string _group;
    private readonly ConsumerSettings _settings;
    private readonly IDatabase _database;
    private readonly IConnectionMultiplexer _reader;
    private readonly IDatabase _blocking;
    private readonly ConcurrentDictionary<int, byte> _toClaim = new();
    private readonly SemaphoreSlim _reading = new(1, 1);
    private int _held;
    private int _rotation;
    private Task _acking = Task.CompletedTask;
    private DateTimeOffset _nextClaim = DateTimeOffset.MinValue;

    public RedisStreamsConsumer(string topic, string[] streams, string group, ConsumerSettings settings, IDatabase database, IConnectionMultiplexer reader)
    {
        _topic = topic;
        _streams = streams;
        _partitionOf = streams.Select((s, i) => (s, i)).ToDictionary(x => x.s, x => x.i, StringComparer.Ordinal);
        _group = group;
        _settings = settings;
        _database = database;
        _reader = reader;
        _blocking = reader.GetDatabase();
    }

    public PartitionAssignment Assignment { get; set; } = null!;

    public void Acquired(int partition) => _toClaim[partition] = 0;

    public async Task QuiesceAsync(int partition)
    {
        // The partition is no longer readable; a read in progress may still return its entries: wait for it.
        await _reading.WaitAsync();
        _reading.Release();
        _toClaim.TryRemove(partition, out _);
        await AcknowledgementsSentAsync();
    }

    public async ValueTask<IReadOnlyList<Delivery>> FetchAsync(int max, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        Assignment.Polled();
        var room = Math.Min(max, _settings.MaxAckPending - Volatile.Read(ref _held));
        if (room <= 0)
        {
            await Task.Delay(wait, cancellationToken);
            return [];
        }
        var result = new List<Delivery>();
        var readable = Assignment.Readable;
        if (readable.Length == 0)
        {
            await Assignment.WaitForChangeAsync(wait, cancellationToken);
            return result;
        }
        await _reading.WaitAsync(cancellationToken);
        try
        {
            // Read again under the lock: a partition given up meanwhile must not be read.
            readable = Assignment.Readable;
            var now = Assignment.Time.GetUtcNow();
            var reclaim = now >= _nextClaim;
            if (reclaim)
            {
                _nextClaim = now + (_settings.AckWait / 10);
            }
            foreach (var p in readable)
            {
                if (result.Count >= room)
                {
                    break;
                }
                if (_toClaim.ContainsKey(p))
                {
                    // Taken over: everything pending in the group on this partition was a former holder's.
                    if (await ClaimAsync(p, 0, room - result.Count, result))
                    {
                        _toClaim.TryRemove(p, out _);
                    }
                }
                else if (reclaim)
                {
                    await ClaimAsync(p, (long)_settings.AckWait.TotalMilliseconds, room - result.Count, result);
                }
            }
            var fresh = readable.Where(p => !_toClaim.ContainsKey(p)).ToList();
            if (result.Count < room && fresh.Count > 0)
            {
                await ReadNewAsync(fresh, room - result.Count, result.Count > 0 ? TimeSpan.Zero : wait, result, cancellationToken);
            }
            Interlocked.Add(ref _held, result.Count);
            foreach (var delivery in result)
            {
                Assignment.HandedOut(((RedisAck)delivery.AckHandle!).Partition, 1);
            }
            return result;
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>Claims entries of the partition idle for at least <paramref name="minIdleMs"/>, oldest first; true when
    /// none is left to claim.</summary>
    private async Task<bool> ClaimAsync(int partition, long minIdleMs, int room, List<Delivery> into)
    {
        var cursor = (RedisValue)"0-0";
        while (room > 0)
        {
            var claimed = await _database.StreamAutoClaimAsync(_streams[partition], _group, _settings.ConsumerName, minIdleMs, cursor, room);
            var entries = claimed.ClaimedEntries.Where(e => !e.IsNull).ToArray();
            if (entries.Length > 0)
            {
                var counts = await DeliveryCountsAsync(partition, entries);
                into.AddRange(entries.Select(e => ToDelivery(partition, e, counts.GetValueOrDefault(e.Id.ToString(), 2))));
                room -= entries.Length;
            }
            cursor = claimed.NextStartId;
            if (cursor == "0-0")
            {
                return true;
            }
        }
        return false;
    }

    private async Task ReadNewAsync(List<int> partitions, int count, TimeSpan wait, List<Delivery> into, CancellationToken cancellationToken)
    {
        // XREADGROUP's COUNT is per stream: the room is split evenly so a read never hands out more than asked.
        if (count >= partitions.Count)
        {
            await ReadAsync(partitions, count / partitions.Count, wait, into, cancellationToken);
            return;
        }
        // Less room than partitions: probe them one at a time without blocking (a different one first each time) until
        // the room is used; if none had anything, wait briefly on one, so the next fetch soon tries the others.
        var start = (int)(unchecked((uint)_rotation++) % (uint)partitions.Count);
        var before = into.Count;
        foreach (var p in partitions.Skip(start).Concat(partitions.Take(start)))
        {
            if (into.Count - before >= count)
            {
                return;
            }
            await ReadAsync([p], count - (into.Count - before), TimeSpan.Zero, into, cancellationToken);
        }
        if (into.Count == before && wait > TimeSpan.Zero)
        {
            await ReadAsync([partitions[start]], count, TimeSpan.FromMilliseconds(Math.Min(50, wait.TotalMilliseconds)), into, cancellationToken);
        }
    }

    private async Task ReadAsync(List<int> partitions, int count, TimeSpan wait, List<Delivery> into, CancellationToken cancellationToken)
    {
        // While entries are waiting (a consumer under load), the client's typed read takes them: its reply is parsed
        // straight into stream entries, without the generic reply tree the blocking form needs (StackExchange.Redis has no
        // blocking XREADGROUP of its own). Only when nothing is waiting does the consumer block, on its own connection.
        var positions = new StreamPosition[partitions.Count];
        for (var i = 0; i < positions.Length; i++)
        {
            positions[i] = new StreamPosition(_streams[partitions[i]], StreamPosition.NewMessages);
        }
        var waiting = await _blocking.StreamReadGroupAsync(positions, _group, _settings.ConsumerName, count).WaitAsync(cancellationToken);
        var before = into.Count;
        foreach (var stream in waiting)
        {
            var partition = _partitionOf[stream.Key!];
            foreach (var entry in stream.Entries)
            {
                into.Add(ToDelivery(partition, entry, 1));
            }
        }
        if (into.Count > before || wait <= TimeSpan.Zero)
        {
            return;
        }
        var blockMs = (long)Math.Max(0, wait.TotalMilliseconds);
        var args = new List<object> { "GROUP", _group, _settings.ConsumerName, "COUNT", count };
        if (blockMs > 0)
        {
            args.Add("BLOCK");
            args.Add(blockMs);
        }
        args.Add("STREAMS");
        args.AddRange(partitions.Select(p => (object)_streams[p]));
        args.AddRange(partitions.Select(_ => (object)">"));
        var reply = await _blocking.ExecuteAsync("XREADGROUP", args).WaitAsync(cancellationToken);
        if (reply.IsNull)
        {
            return;
        }
        // RESP3 answers a map (stream, entries, ...) which arrives flattened; RESP2 an array of [stream, entries].
        var items = (RedisResult[])reply!;
        var streams = reply.Resp3Type == ResultType.Map
            ? Enumerable.Range(0, items.Length / 2).Select(i => (Name: (string)items[2 * i]!, Entries: items[(2 * i) + 1]))
            : items.Select(s => ((RedisResult[])s!) is var pair ? (Name: (string)pair[0]!, Entries: pair[1]) : default);
        foreach (var (name, entries) in streams)
        {
            var partition = _partitionOf[name];
            foreach (var entry in (RedisResult[])entries!)
            {
                var pair = (RedisResult[])entry!;
                var fields = (RedisResult[])pair[1]!;
                var values = new NameValueEntry[fields.Length / 2];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = new NameValueEntry((RedisValue)fields[2 * i], (RedisValue)fields[(2 * i) + 1]);
                }
                into.Add(ToDelivery(partition, new StreamEntry((RedisValue)pair[0], values), 1));
            }
        }
    }

    private async Task<Dictionary<string, int>> DeliveryCountsAsync(int partition, StreamEntry[] entries)
    {
        var ids = entries.Select(e => e.Id.ToString()).ToList();
        var pending = await _database.StreamPendingMessagesAsync(_streams[partition], _group, entries.Length, _settings.ConsumerName, ids.Min(StringComparer.Ordinal), ids.Max(StringComparer.Ordinal));
        return pending.ToDictionary(p => p.MessageId.ToString(), p => p.DeliveryCount, StringComparer.Ordinal);
    }

    private Delivery ToDelivery(int partition, StreamEntry entry, int deliveryCount)
    {
        var entryId = entry.Id.ToString();
        var sequence = long.Parse(entryId.AsSpan(0, entryId.IndexOf('-', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
        var packed = (byte[]?)entry["m"] ?? [];
        try
        {
            var (id, key, target, body) = PackedMessage.Unpack(packed);
            return new Delivery(_topic, id, key, body, target, deliveryCount, sequence) { AckHandle = new RedisAck(partition, entry.Id) };
        }
        catch (InvalidDataException)
        {
            // Not written by Strata: handed over as is, so the bus dead-letters it instead of it blocking the partition.
            return new Delivery(_topic, entryId, string.Empty, packed, null, deliveryCount, sequence) { AckHandle = new RedisAck(partition, entry.Id) };
        }
    }

    /// <summary>Sends the acknowledgements and returns once the previous batch's are confirmed: one batch of
    /// <c>XACK</c>s is in flight while the next batch is fetched and handled, instead of a round trip between batches.
    /// They go out on the connection that also writes the leases, so a partition given up after them is given up after
    /// them on the server too; one that is lost (connection dropped) leaves its entry pending, which the partition's
    /// next reader claims, and the inbox skips.</summary>
    public async ValueTask AckAsync(IReadOnlyList<Delivery> deliveries, CancellationToken cancellationToken = default)
    {
        if (deliveries.Count == 0)
        {
            return;
        }
        var previous = _acking;
        var sends = new List<Task>();
        foreach (var byPartition in deliveries.Select(d => (RedisAck)d.AckHandle!).GroupBy(a => a.Partition))
        {
            var ids = byPartition.Select(a => a.Id).ToArray();
            sends.Add(_database.StreamAcknowledgeAsync(_streams[byPartition.Key], _group, ids));
            Interlocked.Add(ref _held, -ids.Length);
            Assignment.Acknowledged(byPartition.Key, ids.Length);
        }
        _acking = Task.WhenAll(sends);
        await previous;
    }

    private async Task AcknowledgementsSentAsync()
    {
        try
        {
            await _acking;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Left pending: claimed by the partition's next reader.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await AcknowledgementsSentAsync();
        await Assignment.DisposeAsync();
        await _reader.DisposeAsync();
    }

    private sealed record RedisAck(int Partition, RedisValue Id);
}
