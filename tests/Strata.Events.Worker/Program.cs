using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Contracts.Events;
using Strata.Events;
using Strata.Events.Http;
using Strata.Events.Inbox;
using Strata.Events.Nats;
using Strata.Events.Redis;
using Strata.Events.Transport;

// A consumer process for the bus's fault tests: joins <group> on <topic> through <backend> at <address>, handles each
// event by appending its "n" to <output> (one line, flushed) after <delay-ms>, and runs until killed. The tests kill it
// with SIGKILL in the middle of a batch and check that another member gets what it had not acknowledged.
if (args.Length != 7)
{
    Console.Error.WriteLine("usage: Strata.Events.Worker <embedded-http|nats|redis> <address> <topic> <group> <output> <inbox-folder> <delay-ms>");
    return 2;
}
var (backend, address, topic, group, output, inboxFolder) = (args[0], args[1], args[2], args[3], args[4], args[5]);
var delay = TimeSpan.FromMilliseconds(int.Parse(args[6], CultureInfo.InvariantCulture));
IEventTransport transport = backend switch
{
    "embedded-http" => new HttpEventTransport(new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(40) }),
    "nats" => new NatsJetStreamTransport(address, "strata", TimeSpan.FromHours(1), TimeSpan.FromMinutes(2)),
    "redis" => new RedisStreamsTransport(address, "strata", TimeSpan.FromHours(1), TimeSpan.FromMinutes(2)),
    _ => throw new ArgumentException($"unknown backend {backend}"),
};
using var inbox = new SqliteInbox(Path.Combine(inboxFolder, "inbox.db"), TimeProvider.System, TimeSpan.FromDays(1));
await using var bus = new EventBus(transport, new CloudEventCodec(TimeProvider.System, "/worker"), inbox, NullLogger<EventBus>.Instance);
var lines = new StreamWriter(new FileStream(output, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
var gate = new Lock();
await using var subscription = await bus.SubscribeAsync(topic, group, async (e, ct) =>
{
    await Task.Delay(delay, ct);
    lock (gate)
    {
        lines.WriteLine(e.Data.GetProperty("n").GetInt32().ToString(CultureInfo.InvariantCulture));
    }
}, new SubscriptionOptions { MaxInFlight = 20, AckWait = TimeSpan.FromSeconds(3) });
Console.WriteLine("ready");
await Task.Delay(Timeout.Infinite);
return 0;
