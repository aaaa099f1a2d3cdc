using StackExchange.Redis;
using Strata.Events.Embedded;
using Strata.Events.Transport;
using Strata.Events.Transport.Partitioning;

namespace Strata.Events.Redis;

/// <summary>Redis Streams as the broker: a topic is <see cref="PartitionOptions.Partitions"/> streams
/// (<c>{prefix}:{topic}:{p}</c>, a message in the one its key hashes to) whose entries hold the id, ordering key, target
/// group and body; one Redis consumer group per consumer group on each. Publishing a batch is one Lua call that skips
/// ids stored within the dedup window (a <c>SET NX PX</c> marker per id) and trims entries older than the retention
/// (<c>MINID</c>). Consuming: each member reads the partitions it holds a lease on (<see cref="PartitionAssignment"/>,
/// state in <c>{prefix}:group:{topic}:{group}</c>) with <c>XREADGROUP</c> (blocking, on the member's own connection),
/// takes over a former holder's pending entries with <c>XAUTOCLAIM</c>, and acknowledges with <c>XACK</c>.</summary>
public sealed class RedisStreamsTransport(string configuration, string prefix, TimeSpan retention, TimeSpan dedupWindow, PartitionOptions? partitioning = null)
    : IEventTransport
{
    // KEYS: the partition streams; ARGV: dedup prefix, window ms, min id (trim), then per message: id, key, target, body, stream index.
    private const string PublishScript = """
        local added = 0
        for i = 4, #ARGV, 5 do
          if redis.call('SET', ARGV[1] .. ARGV[i], '1', 'NX', 'PX', ARGV[2]) then
            redis.call('XADD', KEYS[tonumber(ARGV[i + 4])], 'MINID', '~', ARGV[3], '*', 'id', ARGV[i], 'key', ARGV[i + 1], 'target', ARGV[i + 2], 'body', ARGV[i + 3])
            added = added + 1
          end
        end
        return added
        """;

    private readonly PartitionOptions _partitioning = Validated(partitioning ?? PartitionOptions.Default);

    private readonly Lazy<Task<ConnectionMultiplexer>> _connection = new(() => ConnectionMultiplexer.ConnectAsync(Options(configuration)));

    public string Name => "redis";

    internal string Configuration => configuration;

    internal static ConfigurationOptions Options(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 5000;
        options.SyncTimeout = 10_000;
        options.AsyncTimeout = 10_000;
        return options;
    }

    public string StreamKey(string topic, int partition) => $"{prefix}:{topic}:{partition}";

    private string[] StreamKeys(string topic) => [.. Enumerable.Range(0, _partitioning.Partitions).Select(p => StreamKey(topic, p))];

    private static PartitionOptions Validated(PartitionOptions options)
    {
        options.Validate();
        return options;
    }

    private async Task<IDatabase> DatabaseAsync() => (await _connection.Value).GetDatabase();

    private static void CheckTopic(string topic)
    {
        if (!EmbeddedEventLog.IsValidName(topic))
        {
            throw new ArgumentException($"'{topic}' is not a valid topic name", nameof(topic));
        }
    }

    public async ValueTask PublishAsync(string topic, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
    {
        CheckTopic(topic);
        var database = await DatabaseAsync();
        var minId = Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (long)retention.TotalMilliseconds);
        var keys = new List<RedisKey>();
        var slot = new Dictionary<int, int>();
        var args = new RedisValue[3 + (5 * messages.Count)];
        args[0] = $"{prefix}:dedup:{topic}:";
        args[1] = (long)dedupWindow.TotalMilliseconds;
        args[2] = minId;
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            var partition = _partitioning.PartitionOf(m.Key, m.Id);
            if (!slot.TryGetValue(partition, out var index))
            {
                keys.Add(StreamKey(topic, partition));
                index = keys.Count;
                slot[partition] = index;
            }
            args[3 + (5 * i)] = m.Id;
            args[4 + (5 * i)] = m.Key;
            args[5 + (5 * i)] = m.TargetGroup ?? string.Empty;
            args[6 + (5 * i)] = m.Body;
            args[7 + (5 * i)] = index;
        }
        await database.ScriptEvaluateAsync(PublishScript, [.. keys], args);
    }

    public async ValueTask<IEventConsumer> OpenConsumerAsync(string topic, string group, ConsumerSettings settings, CancellationToken cancellationToken = default)
    {
        CheckTopic(topic);
        if (!EmbeddedEventLog.IsValidName(group))
        {
            throw new ArgumentException($"'{group}' is not a valid consumer group name", nameof(group));
        }
        var database = await DatabaseAsync();
        var streams = StreamKeys(topic);
        foreach (var stream in streams)
        {
            try
            {
                await database.StreamCreateConsumerGroupAsync(stream, group, settings.FromStart ? StreamPosition.Beginning : StreamPosition.NewMessages, createStream: true);
            }
            catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
            {
                // The group exists: this member resumes it.
            }
        }
        // Blocking reads get a connection of their own so they never hold up publishes and acks.
        var reader = await ConnectionMultiplexer.ConnectAsync(Options(configuration));
        var consumer = new RedisStreamsConsumer(topic, streams, group, settings, database, reader);
        consumer.Assignment = new PartitionAssignment(new RedisGroupStateStore(database), $"{prefix}:group:{topic}:{group}", settings.ConsumerName,
            _partitioning, settings.AckWait, consumer, TimeProvider.System);
        try
        {
            await consumer.Assignment.StartAsync(cancellationToken);
        }
        catch
        {
            await reader.DisposeAsync();
            throw;
        }
        return consumer;
    }

    public async ValueTask<IReadOnlyList<ConsumerGroupState>> DescribeAsync(string topic, CancellationToken cancellationToken = default)
    {
        CheckTopic(topic);
        var database = await DatabaseAsync();
        var groups = new Dictionary<string, ConsumerGroupState>(StringComparer.Ordinal);
        foreach (var stream in StreamKeys(topic))
        {
            if (!await database.KeyExistsAsync(stream))
            {
                continue;
            }
            var result = (RedisResult[])(await database.ExecuteAsync("XINFO", "GROUPS", stream))!;
            foreach (var entry in result)
            {
                var fields = (RedisResult[])entry!;
                var map = new Dictionary<string, RedisResult>(StringComparer.Ordinal);
                for (var i = 0; i + 1 < fields.Length; i += 2)
                {
                    map[(string)fields[i]!] = fields[i + 1];
                }
                var name = (string)map["name"]!;
                var lag = map.TryGetValue("lag", out var l) && !l.IsNull ? (long)l : 0;
                var pending = (long)map["pending"];
                groups[name] = groups.TryGetValue(name, out var sum) ? sum with { Pending = sum.Pending + lag, InFlight = sum.InFlight + pending }
                    : new ConsumerGroupState(topic, name, lag, pending, 0);
            }
        }
        return [.. groups.Values];
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated)
        {
            try
            {
                await (await _connection.Value).DisposeAsync();
            }
            catch (RedisConnectionException)
            {
            }
        }
    }
}
