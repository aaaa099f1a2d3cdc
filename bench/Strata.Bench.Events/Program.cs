using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using StackExchange.Redis;
using Strata.Contracts.Events;
using Strata.Events;
using Strata.Events.Embedded;
using Strata.Events.Http;
using Strata.Events.Inbox;
using Strata.Events.Nats;
using Strata.Events.Redis;
using Strata.Events.Transport;
using Strata.Testing;

// Event bus benchmark, one run, every backend against a real server on loopback (started here, stopped here):
//   throughput: N events with a 256-byte payload published in batches of 500 while one consumer group consumes them
//               (through Strata's bus: envelope, inbox, acks); events/s = N / (first publish -> last handled).
//   latency:    one event per publish at RATE events/s for SECONDS; end-to-end p50/p99 (publish call -> handler).
//   Each throughput figure follows an unmeasured warm-up round of N events (steady state: JIT tiering, broker memory).
//   raw:        the same N published and consumed with the bare client (NATS.Net JetStream; StackExchange.Redis
//               XADD/XREADGROUP/XACK), the broker's own limit on this machine. Bus and bare client alternate for
//               --rounds rounds (default 3); the round with the median ratio is reported (single runs on 2 shared cores
//               varied by up to 2x). Each measured run starts on an emptied broker (Redis FLUSHALL, JetStream streams deleted).
var events = Arg("--events", 200_000);
var rate = Arg("--rate", 1000);
var seconds = Arg("--seconds", 10);
var roundsWanted = Arg("--rounds", 3);
var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
var results = new List<object>();
var pad = new string('x', 200);

using var folder = new TempFolder();
await using var nats = await NatsServer.StartAsync() ?? throw new InvalidOperationException(NatsServer.InstallHint);
await using var redis = await RedisServer.StartAsync() ?? throw new InvalidOperationException(RedisServer.InstallHint);
await using var eventsHost = await EventsHost.StartAsync(Path.Combine(folder.Path, "host"));

var backends = new (string Name, Func<IEventTransport> Open)[]
{
    ("embedded", () => new EmbeddedEventLog(Path.Combine(folder.Path, "log-" + Guid.NewGuid().ToString("N")[..6]), new EmbeddedLogOptions(), TimeProvider.System)),
    ("embedded-http", () => new HttpEventTransport(new HttpClient { BaseAddress = eventsHost.Url, Timeout = TimeSpan.FromSeconds(40) })),
    ("nats", () => new NatsJetStreamTransport(nats.Url, "bench", TimeSpan.FromHours(1), TimeSpan.FromMinutes(2))),
    ("redis", () => new RedisStreamsTransport(redis.Configuration, "bench", TimeSpan.FromHours(1), TimeSpan.FromMinutes(2))),
};
// The bare clients, by backend: (throughput, latency) with the same events and rate as the bus.
var bare = new Dictionary<string, (Func<int, Task<double>> Throughput, Func<Task<(double, double, int)>> Latency)>
{
    ["nats"] = (n => RawNatsAsync(nats.Url, n), () => RawNatsLatencyAsync(nats.Url, rate, seconds)),
    ["redis"] = (n => RawRedisAsync(redis.Configuration, n), () => RawRedisLatencyAsync(redis.Configuration, rate, seconds)),
};
foreach (var (name, open) in backends.Where(b => only is null || b.Name == only))
{
    // Steady state, not JIT warm-up: a first round of as many events is run and discarded (bus and bare). Full size, so
    // the broker's memory has grown to a round's before any measured one: with a fifth, the first measured round (the
    // bus's, on a fresh broker) paid Redis's page faults and the bare client after it did not -- ratio 0.33 in that round
    // against 0.46-0.51 in the four after it.
    await ThroughputAsync(name, open(), events);
    var peer = bare.GetValueOrDefault(name);
    if (peer.Throughput is not null)
    {
        await peer.Throughput(events);
    }
    // Rounds alternate bus and bare client, so each ratio compares runs seconds apart (same broker state, same disk
    // write-back, same neighbours); the median round is reported, every round is kept.
    var rounds = new List<(double Bus, double Bare)>();
    for (var round = 0; round < (peer.Throughput is null ? 1 : roundsWanted); round++)
    {
        await EmptyBrokerAsync(name);
        var busRate = await ThroughputAsync(name, open(), events);
        await EmptyBrokerAsync(name);
        var bareRate = peer.Throughput is null ? double.NaN : await peer.Throughput(events);
        rounds.Add((busRate, bareRate));
        Console.Error.WriteLine($"{name} round {round + 1}: bus {busRate:N0} events/s" + (double.IsNaN(bareRate) ? "" : $", bare client {bareRate:N0}, ratio {busRate / bareRate:F2}"));
    }
    await EmptyBrokerAsync(name);
    var median = rounds.OrderBy(r => double.IsNaN(r.Bare) ? r.Bus : r.Bus / r.Bare).ElementAt(rounds.Count / 2);
    Record(name, "strata", median.Bus, await LatencyAsync(name, open(), rate, seconds), rounds);
    if (peer.Throughput is not null)
    {
        Record(name, "raw", median.Bare, await peer.Latency(), rounds);
    }
}
Console.WriteLine(JsonSerializer.Serialize(new { events, rate, seconds, payload_bytes = 256, redis_port = redis.Port, results }));
return 0;

// Every measured run starts on an empty broker: what earlier runs stored (a million entries each, GBs in Redis by the
// fourth round) would otherwise slow the later runs, bus or bare client, whichever came later.
async Task EmptyBrokerAsync(string backend)
{
    if (backend == "redis")
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.Configuration + ",allowAdmin=true");
        await mux.GetServer(mux.GetEndPoints()[0]).FlushAllDatabasesAsync();
    }
    else if (backend == "nats")
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = nats.Url });
        var js = new NatsJSContext(connection);
        var names = new List<string>();
        await foreach (var stream in js.ListStreamNamesAsync())
        {
            names.Add(stream);
        }
        foreach (var stream in names)
        {
            await js.DeleteStreamAsync(stream);
        }
    }
}

void Record(string backend, string kind, double throughput, (double P50, double P99, int Count) latency, List<(double Bus, double Bare)> rounds)
{
    results.Add(new
    {
        backend, kind, events_per_second = throughput, latency_p50_ms = latency.P50, latency_p99_ms = latency.P99, latency_events = latency.Count,
        rounds = rounds.Select(r => new { bus = r.Bus, bare = double.IsNaN(r.Bare) ? (double?)null : r.Bare }),
    });
    Console.Error.WriteLine($"{(kind == "raw" ? "raw " : "")}{backend}: {throughput:N0} events/s; p50 {latency.P50:F3} ms, p99 {latency.P99:F3} ms at {rate}/s");
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

EventBus Bus(IEventTransport transport) =>
    new(transport, new CloudEventCodec(TimeProvider.System, "/bench"), new SqliteInbox(Path.Combine(folder.Path, $"inbox-{Guid.NewGuid():N}.db"), TimeProvider.System, TimeSpan.FromDays(1)),
        NullLogger<EventBus>.Instance);

async Task<double> ThroughputAsync(string name, IEventTransport transport, int count)
{
    await using var bus = Bus(transport);
    var topic = $"tp-{name}-{Guid.NewGuid():N}"[..24];
    var handled = 0;
    var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    await using var sub = await bus.SubscribeAsync(topic, "bench", (_, _) =>
    {
        if (Interlocked.Increment(ref handled) == count)
        {
            done.TrySetResult();
        }
        return Task.CompletedTask;
    }, new SubscriptionOptions { MaxInFlight = 500 });
    var clock = Stopwatch.StartNew();
    for (var start = 0; start < count; start += 500)
    {
        var batch = Enumerable.Range(start, Math.Min(500, count - start)).Select(i => new KeyValuePair<string, object>($"k{i % 16}", new { n = i, ts = 0L, pad })).ToList();
        await bus.PublishBatchAsync(topic, batch);
    }
    await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
    return count / clock.Elapsed.TotalSeconds;
}

async Task<(double P50, double P99, int Count)> LatencyAsync(string name, IEventTransport transport, int perSecond, int duration)
{
    await using var bus = Bus(transport);
    var topic = $"lt-{name}-{Guid.NewGuid():N}"[..24];
    var latencies = new List<double>(perSecond * duration);
    var total = perSecond * duration;
    var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    await using var sub = await bus.SubscribeAsync(topic, "bench", (e, _) =>
    {
        var sent = e.Data.GetProperty("ts").GetInt64();
        lock (latencies)
        {
            latencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            if (latencies.Count == total)
            {
                done.TrySetResult();
            }
        }
        return Task.CompletedTask;
    });
    // Warm-up: a few events first, not measured.
    for (var i = 0; i < 50; i++)
    {
        await bus.PublishAsync(topic, "w", new { n = -1, ts = Stopwatch.GetTimestamp(), pad });
    }
    await Task.Delay(1500);
    lock (latencies)
    {
        latencies.Clear();
    }
    await PacedAsync(perSecond, total, async i => await bus.PublishAsync(topic, $"k{i % 16}", new { n = i, ts = Stopwatch.GetTimestamp(), pad }));
    await done.Task.WaitAsync(TimeSpan.FromMinutes(2));
    return Percentiles(name, latencies);
}

// Publishes `total` times at `perSecond`, paced by sleeping, never by spinning: a spinning publisher would take one of
// the machine's two cores from the system under test. A sleep ends late by up to a timer tick; the schedule catches up
// (due times are fixed), and each latency is measured from the actual publish call.
static async Task PacedAsync(int perSecond, int total, Func<int, Task> publish)
{
    var begin = Stopwatch.GetTimestamp();
    for (var i = 0; i < total; i++)
    {
        var due = begin + (long)(i * Stopwatch.Frequency / (double)perSecond);
        var ahead = TimeSpan.FromSeconds((due - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
        if (ahead > TimeSpan.FromMilliseconds(0.5))
        {
            await Task.Delay(ahead);
        }
        await publish(i);
    }
}

// p50 and p99 for the results; the tail (p90 to max) on stderr.
static (double P50, double P99, int Count) Percentiles(string name, List<double> latencies)
{
    var sorted = latencies.Order().ToArray();
    double At(double q) => sorted[(int)(sorted.Length * q)];
    Console.Error.WriteLine($"{name}: latency p90 {At(0.9):F3} p95 {At(0.95):F3} p99 {At(0.99):F3} p99.9 {At(0.999):F3} max {sorted[^1]:F3} ms");
    return (At(0.5), At(0.99), sorted.Length);
}

// The bare JetStream client at the same rate: publish (awaiting the stream's ack) -> pull consumer -> ack.
async Task<(double P50, double P99, int Count)> RawNatsLatencyAsync(string url, int perSecond, int duration)
{
    await using var connection = new NatsConnection(new NatsOpts { Url = url });
    var js = new NatsJSContext(connection);
    var stream = $"RAWL_{Guid.NewGuid():N}"[..16];
    await js.CreateStreamAsync(new StreamConfig(stream, [stream + ".x"]) { Storage = StreamConfigStorage.File });
    var consumer = await js.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig("raw") { DurableName = "raw", AckPolicy = ConsumerConfigAckPolicy.Explicit });
    var total = perSecond * duration;
    var latencies = new List<double>(total);
    var body = new byte[256];
    var consuming = Task.Run(async () =>
    {
        await foreach (var msg in consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = 256 }))
        {
            latencies.Add(Stopwatch.GetElapsedTime(BitConverter.ToInt64(msg.Data!)).TotalMilliseconds);
            await msg.AckAsync();
            if (latencies.Count == total)
            {
                break;
            }
        }
    });
    await PacedAsync(perSecond, total, async i =>
    {
        var payload = (byte[])body.Clone();
        BitConverter.TryWriteBytes(payload, Stopwatch.GetTimestamp());
        (await js.PublishAsync(stream + ".x", payload, opts: new NatsJSPubOpts { MsgId = $"m{i}" })).EnsureSuccess();
    });
    await consuming.WaitAsync(TimeSpan.FromMinutes(2));
    return Percentiles("raw nats", latencies);
}

// The bare Redis client at the same rate: XADD -> XREADGROUP blocking on its own connection -> XACK.
async Task<(double P50, double P99, int Count)> RawRedisLatencyAsync(string configuration, int perSecond, int duration)
{
    await using var mux = await ConnectionMultiplexer.ConnectAsync(configuration);
    await using var reader = await ConnectionMultiplexer.ConnectAsync(configuration);
    var db = mux.GetDatabase();
    var key = $"rawl:{Guid.NewGuid():N}";
    await db.StreamCreateConsumerGroupAsync(key, "raw", StreamPosition.NewMessages, createStream: true);
    var total = perSecond * duration;
    var latencies = new List<double>(total);
    var body = new byte[256];
    var consuming = Task.Run(async () =>
    {
        while (latencies.Count < total)
        {
            var reply = await reader.GetDatabase().ExecuteAsync("XREADGROUP", "GROUP", "raw", "c", "COUNT", 256, "BLOCK", 1000, "STREAMS", key, ">");
            if (reply.IsNull)
            {
                continue;
            }
            var items = (RedisResult[])reply!;
            var entries = (RedisResult[])(reply.Resp3Type == ResultType.Map ? items[1] : ((RedisResult[])items[0]!)[1])!;
            var ids = new List<RedisValue>();
            foreach (var entry in entries)
            {
                var pair = (RedisResult[])entry!;
                var fields = (RedisResult[])pair[1]!;
                latencies.Add(Stopwatch.GetElapsedTime(BitConverter.ToInt64((byte[])fields[1]!)).TotalMilliseconds);
                ids.Add((RedisValue)pair[0]);
            }
            await db.StreamAcknowledgeAsync(key, "raw", [.. ids]);
        }
    });
    await PacedAsync(perSecond, total, async i =>
    {
        var payload = (byte[])body.Clone();
        BitConverter.TryWriteBytes(payload, Stopwatch.GetTimestamp());
        await db.StreamAddAsync(key, "m", payload);
    });
    await consuming.WaitAsync(TimeSpan.FromMinutes(2));
    return Percentiles("raw redis", latencies);
}

async Task<double> RawNatsAsync(string url, int count)
{
    await using var connection = new NatsConnection(new NatsOpts { Url = url });
    var js = new NatsJSContext(connection);
    var stream = $"RAW_{Guid.NewGuid():N}"[..16];
    await js.CreateStreamAsync(new StreamConfig(stream, [stream + ".x"]) { Storage = StreamConfigStorage.File });
    var consumer = await js.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig("raw") { DurableName = "raw", AckPolicy = ConsumerConfigAckPolicy.Explicit, MaxAckPending = 10_000 });
    var body = System.Text.Encoding.UTF8.GetBytes(new string('y', 256));
    var consumed = 0;
    var clock = Stopwatch.StartNew();
    var consuming = Task.Run(async () =>
    {
        await foreach (var msg in consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = 1000 }))
        {
            await msg.AckAsync();
            if (++consumed == count)
            {
                break;
            }
        }
    });
    for (var start = 0; start < count; start += 500)
    {
        var acks = Enumerable.Range(start, Math.Min(500, count - start))
            .Select(i => js.PublishAsync(stream + ".x", body, opts: new NatsJSPubOpts { MsgId = $"m{i}" }).AsTask()).ToList();
        foreach (var ack in acks)
        {
            (await ack).EnsureSuccess();
        }
    }
    await consuming.WaitAsync(TimeSpan.FromMinutes(5));
    return count / clock.Elapsed.TotalSeconds;
}

async Task<double> RawRedisAsync(string configuration, int count)
{
    await using var mux = await ConnectionMultiplexer.ConnectAsync(configuration);
    var db = mux.GetDatabase();
    var key = $"raw:{Guid.NewGuid():N}";
    await db.StreamCreateConsumerGroupAsync(key, "raw", StreamPosition.NewMessages, createStream: true);
    var body = new string('y', 256);
    var consumed = 0;
    var clock = Stopwatch.StartNew();
    var consuming = Task.Run(async () =>
    {
        while (consumed < count)
        {
            var entries = await db.StreamReadGroupAsync(key, "raw", "c", ">", 500);
            if (entries.Length == 0)
            {
                await Task.Delay(1);
                continue;
            }
            await db.StreamAcknowledgeAsync(key, "raw", [.. entries.Select(e => e.Id)]);
            consumed += entries.Length;
        }
    });
    for (var start = 0; start < count; start += 500)
    {
        var batch = db.CreateBatch();
        var adds = Enumerable.Range(start, Math.Min(500, count - start)).Select(i => batch.StreamAddAsync(key, [new NameValueEntry("id", $"m{i}"), new NameValueEntry("body", body)])).ToList();
        batch.Execute();
        await Task.WhenAll(adds);
    }
    await consuming.WaitAsync(TimeSpan.FromMinutes(5));
    return count / clock.Elapsed.TotalSeconds;
}
