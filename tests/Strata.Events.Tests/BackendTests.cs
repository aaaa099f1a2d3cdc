using Strata.Events.Embedded;
using Strata.Events.Nats;
using Strata.Events.Redis;
using Strata.Events.Transport;
using Strata.Testing;

namespace Strata.Events.Tests;

/// <summary>The embedded log: "restarting the broker" closes the log (as its process ending would) and opens the folder again.</summary>
public sealed class EmbeddedEventLogTests : EventTransportConformance
{
    private EmbeddedEventLog? _log;

    private EmbeddedEventLog Log => _log ??= new EmbeddedEventLog(Path.Combine(Folder.Path, "log"), new EmbeddedLogOptions(), TimeProvider.System);

    protected override Task<IEventTransport> OpenAsync() => Task.FromResult<IEventTransport>(new SharedLog(() => Log));

    protected override async Task RestartBrokerAsync()
    {
        var old = Log;
        _log = null;
        await old.DisposeAsync();
        _ = Log;
    }

    [Fact]
    public async Task Group_FarBehind_ReadsEveryRecordFromDisk_AcrossSegments_ByteForByte()
    {
        // More records than the cache holds, in segments of 256 KB, bodies of varied sizes (one larger than a read-ahead
        // block): a group created at the start reads them all back from the files, in order, intact.
        await using var log = new EmbeddedEventLog(Path.Combine(Folder.Path, "far"), new EmbeddedLogOptions { SegmentBytes = 256 * 1024 }, TimeProvider.System);
        var random = new Random(7);
        var sent = Enumerable.Range(0, 9000).Select(i =>
        {
            var body = new byte[i == 4321 ? 100_000 : random.Next(0, 700)];
            random.NextBytes(body);
            return new OutgoingMessage($"m{i}", $"k{i % 7}", body);
        }).ToList();
        foreach (var chunk in sent.Chunk(450))
        {
            await log.PublishAsync(Topic, chunk);
        }
        await using var consumer = await log.OpenConsumerAsync(Topic, "late", ConsumerSettings.Default("c1") with { MaxAckPending = 1000, FromStart = true });
        var received = new List<Delivery>();
        while (received.Count < sent.Count)
        {
            var batch = await consumer.FetchAsync(1000, TimeSpan.FromSeconds(1));
            Assert.NotEmpty(batch);
            received.AddRange(batch);
            await consumer.AckAsync(batch);
        }
        Assert.Equal(sent.Select(m => m.Id), received.Select(d => d.Id));
        Assert.Equal(sent.Select(m => m.Key), received.Select(d => d.Key));
        Assert.All(sent.Zip(received), pair => Assert.True(pair.First.Body.Span.SequenceEqual(pair.Second.Body.Span), pair.First.Id));
    }

    /// <summary>Every connection of a test reaches the one log of its folder (a log has one owner process).</summary>
    private sealed class SharedLog(Func<EmbeddedEventLog> log) : IEventTransport
    {
        public string Name => "embedded";

        public ValueTask PublishAsync(string topic, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default) =>
            log().PublishAsync(topic, messages, cancellationToken);

        public ValueTask<IEventConsumer> OpenConsumerAsync(string topic, string group, ConsumerSettings settings, CancellationToken cancellationToken = default) =>
            log().OpenConsumerAsync(topic, group, settings, cancellationToken);

        public ValueTask<IReadOnlyList<ConsumerGroupState>> DescribeAsync(string topic, CancellationToken cancellationToken = default) =>
            log().DescribeAsync(topic, cancellationToken);

        public ValueTask DisposeAsync() => log().DisposeAsync();
    }
}

/// <summary>A real server for the test classes that share it (started once, stopped by pid at the end).</summary>
public abstract class ServerFixture<T>(Func<Task<T?>> start) : IAsyncLifetime where T : ServerProcess
{
    public T? Server { get; private set; }

    public async Task InitializeAsync() => Server = await start();

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

/// <summary>One nats-server (JetStream, file storage) per test class; each test uses its own topic.</summary>
public sealed class NatsFixture() : ServerFixture<NatsServer>(NatsServer.StartAsync);

public sealed class NatsJetStreamTransportTests(NatsFixture nats) : EventTransportConformance, IClassFixture<NatsFixture>
{
    protected override Task<IEventTransport> OpenAsync()
    {
        Skip.If(nats.Server is null, NatsServer.InstallHint);
        return Task.FromResult<IEventTransport>(new NatsJetStreamTransport(nats.Server!.Url, "strata", TimeSpan.FromHours(1), TimeSpan.FromMinutes(2), Partitioning));
    }

    protected override async Task RestartBrokerAsync()
    {
        await nats.Server!.StopAsync(kill: true);
        await Task.Delay(300);
        await nats.Server.RestartAsync();
    }
}

/// <summary>One redis-server with an fsync'd append-only file (so a restart keeps what it acknowledged).</summary>
public sealed class RedisFixture() : ServerFixture<RedisServer>(() => RedisServer.StartAsync(appendOnly: true));

public sealed class RedisStreamsTransportTests(RedisFixture redis) : EventTransportConformance, IClassFixture<RedisFixture>
{
    protected override Task<IEventTransport> OpenAsync()
    {
        Skip.If(redis.Server is null, RedisServer.InstallHint);
        return Task.FromResult<IEventTransport>(new RedisStreamsTransport(redis.Server!.Configuration, "strata", TimeSpan.FromHours(1), TimeSpan.FromMinutes(2), Partitioning));
    }

    [SkippableFact]
    public async Task Stream_EntryNotWrittenByStrata_IsDeadLettered_AndTheRestFlows()
    {
        var bus = await BusAsync();
        var handled = new Collector();
        var dead = new Collector();
        await bus.SubscribeAsync(Topic, "g", handled.Handle);
        await bus.SubscribeAsync(Strata.Contracts.Events.EventTopics.DeadLetter, "dlq-" + Topic, dead.Handle);
        await using (var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Server!.Configuration))
        {
            // Another program writes to a partition stream: wrong field, and a field too short to be a packed message.
            var transport = new RedisStreamsTransport(redis.Server.Configuration, "strata", TimeSpan.FromHours(1), TimeSpan.FromMinutes(2), Partitioning);
            await connection.GetDatabase().StreamAddAsync(transport.StreamKey(Topic, 0), "foreign", "hello");
            await connection.GetDatabase().StreamAddAsync(transport.StreamKey(Topic, 0), "m", new byte[] { 1 });
        }
        await bus.PublishBatchAsync(Topic, [.. Enumerable.Range(0, 8).Select(i => new KeyValuePair<string, object>($"k{i}", new { n = i }))]);

        Assert.Equal(8, (await handled.WaitForAsync(8)).Count);
        var letters = await dead.WaitForAsync(2);
        Assert.All(letters.Select(l => l.DataAs<Strata.Contracts.Events.DeadLetterEvent>()!), l => Assert.Equal(Topic, l.Topic));
    }

    /// <summary>A publish through the bus (fresh ids) is appended without touching the dedup buckets; envelopes (an outbox
    /// relay, a forwarded publish) are looked up and remembered there.</summary>
    [SkippableFact]
    public async Task BusPublish_FreshIds_SkipTheDedupBuckets_EnvelopesUseThem()
    {
        var bus = await BusAsync();
        var handled = new Collector();
        await bus.SubscribeAsync(Topic, "g", handled.Handle);
        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Server!.Configuration);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        async Task<int> BucketsAsync()
        {
            var count = 0;
            await foreach (var _ in server.KeysAsync(pattern: $"strata:dedup:{Topic}:*"))
            {
                count++;
            }
            return count;
        }

        await bus.PublishBatchAsync(Topic, [.. Enumerable.Range(0, 150).Select(i => new KeyValuePair<string, object>($"k{i % 5}", new { n = i }))]);
        Assert.Equal(150, (await handled.WaitForAsync(150)).Count);
        Assert.Equal(0, await BucketsAsync());

        var envelope = new CloudEventCodec(TimeProvider.System, "/t").Encode(Topic, "s", new { n = 150 }, out var id);
        await bus.PublishEnvelopesAsync(Topic, [new OutgoingMessage(id, "s", envelope)]);
        await bus.PublishEnvelopesAsync(Topic, [new OutgoingMessage(id, "s", envelope)]);
        Assert.Equal(151, (await handled.WaitForAsync(151)).Count);
        Assert.Equal(1, await BucketsAsync());
        await handled.SettleAsync(bus, Topic, "s");
        Assert.Equal(151, handled.Events.Count);
    }

    protected override async Task RestartBrokerAsync()
    {
        await redis.Server!.StopAsync(kill: true);
        await Task.Delay(300);
        await redis.Server.RestartAsync();
    }
}

/// <summary>The embedded log reached over HTTP, as the other processes of the microservices topology reach it;
/// "restarting the broker" stops the host of the Events module and starts it again on the same port and folder.</summary>
public sealed class HttpEventTransportTests : EventTransportConformance, IAsyncLifetime
{
    private EventsHost? _host;

    public async Task InitializeAsync() => _host = await EventsHost.StartAsync(Path.Combine(Folder.Path, "host"));

    protected override Task<IEventTransport> OpenAsync() =>
        Task.FromResult<IEventTransport>(new Strata.Events.Http.HttpEventTransport(new HttpClient { BaseAddress = _host!.Url, Timeout = TimeSpan.FromSeconds(40) }));

    protected override async Task RestartBrokerAsync()
    {
        await _host!.StopAsync();
        await Task.Delay(300);
        await _host.StartAgainAsync();
    }

    protected override async Task StopBrokerAsync() => await _host!.StopAsync();

    [Fact]
    public async Task Subscribe_WhileTheBrokerIsDown_JoinsWhenItComesUp()
    {
        await _host!.StopAsync();
        using var inbox = new Strata.Events.Inbox.SqliteInbox(Path.Combine(Folder.Path, "inbox-late.db"), TimeProvider.System, TimeSpan.FromDays(1));
        await using var bus = new EventBus(await OpenAsync(), new CloudEventCodec(TimeProvider.System, "/t"), inbox,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<EventBus>.Instance);
        var received = new Collector();

        await bus.SubscribeAsync(Topic, "late", received.Handle, new Strata.Contracts.Events.SubscriptionOptions { FromStart = true });
        await _host.StartAgainAsync();
        await bus.PublishAsync(Topic, "s", new { n = 1 });

        Assert.Single(await received.WaitForAsync(1, TimeSpan.FromSeconds(30)));
    }

    Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;
}
