using StackExchange.Redis;
using Strata.Events.Embedded;
using Strata.Events.Transport;

namespace Strata.Events.Redis;

/// <summary>Redis Streams as the broker: one stream per topic (<c>{prefix}:{topic}</c>) whose entries hold the id,
/// ordering key, target group and body; one Redis consumer group per consumer group. Publishing a batch is one Lua
/// call that skips ids stored within the dedup window (a <c>SET NX PX</c> marker per id) and trims entries older than
/// the retention (<c>MINID</c>). Consuming: <c>XREADGROUP</c> (blocking, on the member's own connection), messages
/// idle past the ack wait taken over with <c>XAUTOCLAIM</c>, <c>XACK</c>.</summary>
public sealed class RedisStreamsTransport(string configuration, string prefix, TimeSpan retention, TimeSpan dedupWindow) : IEventTransport
{
    // KEYS[1] stream; ARGV: dedup prefix, window ms, min id (trim), then per message: id, key, target, body.
    private const string PublishScript = """
        local added = 0
        for i = 4, #ARGV, 4 do
          if redis.call('SET', ARGV[1] .. ARGV[i], '1', 'NX', 'PX', ARGV[2]) then
            redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[3], '*', 'id', ARGV[i], 'key', ARGV[i + 1], 'target', ARGV[i + 2], 'body', ARGV[i + 3])
            added = added + 1
          end
        end
        return added
        """;

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

    public string StreamKey(string topic) => $"{prefix}:{topic}";

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
        var args = new RedisValue[3 + (4 * messages.Count)];
        args[0] = $"{prefix}:dedup:{topic}:";
        args[1] = (long)dedupWindow.TotalMilliseconds;
        args[2] = minId;
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            args[3 + (4 * i)] = m.Id;
            args[4 + (4 * i)] = m.Key;
            args[5 + (4 * i)] = m.TargetGroup ?? string.Empty;
            args[6 + (4 * i)] = m.Body;
        }
        await database.ScriptEvaluateAsync(PublishScript, [StreamKey(topic)], args);
    }

    public async ValueTask<IEventConsumer> OpenConsumerAsync(string topic, string group, ConsumerSettings settings, CancellationToken cancellationToken = default)
    {
        CheckTopic(topic);
        if (!EmbeddedEventLog.IsValidName(group))
        {
            throw new ArgumentException($"'{group}' is not a valid consumer group name", nameof(group));
        }
        var database = await DatabaseAsync();
        try
        {
            await database.StreamCreateConsumerGroupAsync(StreamKey(topic), group, settings.FromStart ? StreamPosition.Beginning : StreamPosition.NewMessages, createStream: true);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // The group exists: this member resumes it.
        }
        // Blocking reads get a connection of their own so they never hold up publishes and acks.
        var reader = await ConnectionMultiplexer.ConnectAsync(Options(configuration));
        return new RedisStreamsConsumer(topic, StreamKey(topic), group, settings, database, reader);
    }

    public async ValueTask<IReadOnlyList<ConsumerGroupState>> DescribeAsync(string topic, CancellationToken cancellationToken = default)
    {
        CheckTopic(topic);
        var database = await DatabaseAsync();
        if (!await database.KeyExistsAsync(StreamKey(topic)))
        {
            return [];
        }
        var result = (RedisResult[])(await database.ExecuteAsync("XINFO", "GROUPS", StreamKey(topic)))!;
        var states = new List<ConsumerGroupState>();
        foreach (var entry in result)
        {
            var fields = (RedisResult[])entry!;
            var map = new Dictionary<string, RedisResult>(StringComparer.Ordinal);
            for (var i = 0; i + 1 < fields.Length; i += 2)
            {
                map[(string)fields[i]!] = fields[i + 1];
            }
            var lag = map.TryGetValue("lag", out var l) && !l.IsNull ? (long)l : 0;
            states.Add(new ConsumerGroupState(topic, (string)map["name"]!, lag, (long)map["pending"], 0));
        }
        return states;
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
