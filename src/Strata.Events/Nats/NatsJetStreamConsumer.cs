using NATS.Client.JetStream;
using Strata.Events.Transport;

namespace Strata.Events.Nats;

/// <summary>A member of a JetStream durable pull consumer. It pulls only when asked (no prefetch, so an idle member
/// never sits on messages its group could handle): a no-wait fetch of what is there, else a wait for the next
/// message (at least 1 s, JetStream's request granularity) followed by a no-wait fetch of the rest.</summary>
internal sealed class NatsJetStreamConsumer(string topic, INatsJSConsumer consumer) : IEventConsumer
{
    private static readonly TimeSpan MinimumWait = TimeSpan.FromSeconds(1);

    public async ValueTask<IReadOnlyList<Delivery>> FetchAsync(int max, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var result = new List<Delivery>();
        await FetchNoWaitAsync(result, max, cancellationToken);
        if (result.Count > 0)
        {
            return result;
        }
        var next = await consumer.NextAsync<byte[]>(opts: new NatsJSNextOpts { Expires = wait < MinimumWait ? MinimumWait : wait }, cancellationToken: cancellationToken);
        if (next is { } message)
        {
            result.Add(ToDelivery(message));
            await FetchNoWaitAsync(result, max - 1, cancellationToken);
        }
        return result;
    }

    private async Task FetchNoWaitAsync(List<Delivery> into, int max, CancellationToken cancellationToken)
    {
        if (max <= 0)
        {
            return;
        }
        await foreach (var message in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = max }, cancellationToken: cancellationToken))
        {
            into.Add(ToDelivery(message));
        }
    }

    private Delivery ToDelivery(INatsJSMsg<byte[]> message)
    {
        var headers = message.Headers;
        var key = headers?.TryGetValue(NatsJetStreamTransport.KeyHeader, out var k) == true ? k.ToString() : string.Empty;
        var target = headers?.TryGetValue(NatsJetStreamTransport.TargetHeader, out var t) == true ? t.ToString() : null;
        var id = headers?.TryGetValue("Nats-Msg-Id", out var i) == true ? i.ToString() : string.Empty;
        var metadata = message.Metadata;
        return new Delivery(topic, id, key, message.Data ?? [], target, (int)(metadata?.NumDelivered ?? 1), (long)(metadata?.Sequence.Stream ?? 0))
        {
            AckHandle = message,
        };
    }

    public async ValueTask AckAsync(IReadOnlyList<Delivery> deliveries, CancellationToken cancellationToken = default)
    {
        foreach (var delivery in deliveries)
        {
            await ((INatsJSMsg<byte[]>)delivery.AckHandle!).AckAsync(cancellationToken: cancellationToken);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
