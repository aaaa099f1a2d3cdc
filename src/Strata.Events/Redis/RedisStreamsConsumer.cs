using System.Globalization;
using StackExchange.Redis;
using Strata.Events.Transport;

namespace Strata.Events.Redis;

/// <summary>A member of a Redis consumer group. Each fetch first takes over entries other members left idle past
/// the ack wait (<c>XAUTOCLAIM</c>: how a dead member's messages reach the living), then reads new ones, blocking up
/// to the wait on its own connection.</summary>
internal sealed class RedisStreamsConsumer(string topic, string stream, string group, ConsumerSettings settings, IDatabase database, ConnectionMultiplexer reader)
    : IEventConsumer
{
    private readonly IDatabase _blocking = reader.GetDatabase();
    private int _held;
    private DateTimeOffset _nextClaim = DateTimeOffset.MinValue;

    public async ValueTask<IReadOnlyList<Delivery>> FetchAsync(int max, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var room = Math.Min(max, settings.MaxAckPending - Volatile.Read(ref _held));
        if (room <= 0)
        {
            await Task.Delay(wait, cancellationToken);
            return [];
        }
        var result = new List<Delivery>();
        if (DateTimeOffset.UtcNow >= _nextClaim)
        {
            // Checked at most every tenth of the ack wait: taking over is for the dead, not the busy.
            _nextClaim = DateTimeOffset.UtcNow + (settings.AckWait / 10);
            var claimed = await database.StreamAutoClaimAsync(stream, group, settings.ConsumerName, (long)settings.AckWait.TotalMilliseconds, "0-0", room);
            if (claimed.ClaimedEntries.Length > 0)
            {
                var counts = await DeliveryCountsAsync(claimed.ClaimedEntries);
                result.AddRange(claimed.ClaimedEntries.Where(e => !e.IsNull).Select(e => ToDelivery(e, counts.GetValueOrDefault(e.Id.ToString(), 2))));
            }
        }
        if (result.Count < room)
        {
            var blockMs = result.Count > 0 ? 0 : (long)Math.Max(1, wait.TotalMilliseconds);
            var args = new List<object> { "GROUP", group, settings.ConsumerName, "COUNT", room - result.Count };
            if (blockMs > 0)
            {
                args.Add("BLOCK");
                args.Add(blockMs);
            }
            args.AddRange(["STREAMS", stream, ">"]);
            var reply = await _blocking.ExecuteAsync("XREADGROUP", args).WaitAsync(cancellationToken);
            if (!reply.IsNull)
            {
                // RESP3 answers a map (stream, entries, ...) which arrives flattened; RESP2 an array of [stream, entries].
                var items = (RedisResult[])reply!;
                var entryLists = reply.Resp3Type == ResultType.Map ? items.Where((_, i) => i % 2 == 1) : items.Select(s => ((RedisResult[])s!)[1]);
                foreach (var entries in entryLists)
                {
                    foreach (var entry in (RedisResult[])entries!)
                    {
                        var pair = (RedisResult[])entry!;
                        var fields = (RedisResult[])pair[1]!;
                        var values = new NameValueEntry[fields.Length / 2];
                        for (var i = 0; i < values.Length; i++)
                        {
                            values[i] = new NameValueEntry((RedisValue)fields[2 * i], (RedisValue)fields[(2 * i) + 1]);
                        }
                        result.Add(ToDelivery(new StreamEntry((RedisValue)pair[0], values), 1));
                    }
                }
            }
        }
        Interlocked.Add(ref _held, result.Count);
        return result;
    }

    private async Task<Dictionary<string, int>> DeliveryCountsAsync(StreamEntry[] entries)
    {
        var ids = entries.Select(e => e.Id.ToString()).Order(StringComparer.Ordinal).ToList();
        var pending = await database.StreamPendingMessagesAsync(stream, group, entries.Length, settings.ConsumerName, ids[0], ids[^1]);
        return pending.ToDictionary(p => p.MessageId.ToString(), p => p.DeliveryCount, StringComparer.Ordinal);
    }

    private Delivery ToDelivery(StreamEntry entry, int deliveryCount)
    {
        var target = (string?)entry["target"];
        var id = entry.Id.ToString();
        var sequence = long.Parse(id.AsSpan(0, id.IndexOf('-', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
        return new Delivery(topic, (string?)entry["id"] ?? string.Empty, (string?)entry["key"] ?? string.Empty, (byte[]?)entry["body"] ?? [],
            string.IsNullOrEmpty(target) ? null : target, deliveryCount, sequence) { AckHandle = entry.Id };
    }

    public async ValueTask AckAsync(IReadOnlyList<Delivery> deliveries, CancellationToken cancellationToken = default)
    {
        if (deliveries.Count == 0)
        {
            return;
        }
        await database.StreamAcknowledgeAsync(stream, group, [.. deliveries.Select(d => (RedisValue)d.AckHandle!)]);
        Interlocked.Add(ref _held, -deliveries.Count);
    }

    public async ValueTask DisposeAsync() => await reader.DisposeAsync();
}
