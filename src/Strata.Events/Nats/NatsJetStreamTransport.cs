using System.Collections.Concurrent;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Strata.Events.Embedded;
using Strata.Events.Transport;

namespace Strata.Events.Nats;

/// <summary>NATS JetStream as the broker: one stream per topic (<c>{prefix}_{topic}</c>, file storage, subject
/// <c>{prefix}.{topic}</c>, a dedup window on <c>Nats-Msg-Id</c>), one durable pull consumer per group with explicit
/// acks; members of a group share that consumer. The ordering key and target group travel as headers.</summary>
public sealed class NatsJetStreamTransport : IEventTransport
{
    public const string KeyHeader = "Strata-Key";
    public const string TargetHeader = "Strata-Target";
    private readonly NatsConnection _connection;
    private readonly NatsJSContext _js;
    private readonly string _prefix;
    private readonly TimeSpan _retention;
    private readonly TimeSpan _dedupWindow;
    private readonly ConcurrentDictionary<string, Task> _streams = new(StringComparer.Ordinal);

    public NatsJetStreamTransport(string url, string prefix, TimeSpan retention, TimeSpan dedupWindow)
    {
        _connection = new NatsConnection(new NatsOpts { Url = url, Name = "strata", ConnectTimeout = TimeSpan.FromSeconds(5), CommandTimeout = TimeSpan.FromSeconds(10) });
        _js = new NatsJSContext(_connection);
        _prefix = prefix;
        _retention = retention;
        _dedupWindow = dedupWindow;
    }

    public string Name => "nats";

    public string StreamName(string topic) => $"{_prefix}_{topic.Replace('.', '_')}";

    public string Subject(string topic) => $"{_prefix}.{topic}";

    internal static string ConsumerName(string group) => group.Replace('.', '_');

    private Task EnsureStreamAsync(string topic, CancellationToken cancellationToken)
    {
        if (!EmbeddedEventLog.IsValidName(topic))
        {
            throw new ArgumentException($"'{topic}' is not a valid topic name", nameof(topic));
        }
        var task = _streams.GetOrAdd(topic, t => _js.CreateOrUpdateStreamAsync(new StreamConfig(StreamName(t), [Subject(t)])
        {
            Storage = StreamConfigStorage.File,
            DuplicateWindow = _dedupWindow,
            MaxAge = _retention,
            Retention = StreamConfigRetention.Limits,
        }, cancellationToken).AsTask());
        if (task.IsFaulted || task.IsCanceled)
        {
            _streams.TryRemove(new KeyValuePair<string, Task>(topic, task));
        }
        return task;
    }

    public async ValueTask PublishAsync(string topic, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
    {
        try
        {
            await EnsureStreamAsync(topic, cancellationToken);
        }
        catch
        {
            _streams.TryRemove(topic, out _);
            throw;
        }
        var subject = Subject(topic);
        // Pipelined: every message is sent before the first ack is awaited; each ack says the stream stored it.
        var acks = new Task<PubAckResponse>[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            var headers = new NatsHeaders { [KeyHeader] = message.Key };
            if (message.TargetGroup is not null)
            {
                headers[TargetHeader] = message.TargetGroup;
            }
            acks[i] = _js.PublishAsync(subject, message.Body, opts: new NatsJSPubOpts { MsgId = message.Id }, headers: headers, cancellationToken: cancellationToken).AsTask();
        }
        foreach (var ack in acks)
        {
            var response = await ack;
            if (!response.Duplicate)
            {
                response.EnsureSuccess();
            }
        }
    }

    public async ValueTask<IEventConsumer> OpenConsumerAsync(string topic, string group, ConsumerSettings settings, CancellationToken cancellationToken = default)
    {
        if (!EmbeddedEventLog.IsValidName(group))
        {
            throw new ArgumentException($"'{group}' is not a valid consumer group name", nameof(group));
        }
        await EnsureStreamAsync(topic, cancellationToken);
        var name = ConsumerName(group);
        INatsJSConsumer consumer;
        try
        {
            consumer = await _js.GetConsumerAsync(StreamName(topic), name, cancellationToken);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            consumer = await _js.CreateOrUpdateConsumerAsync(StreamName(topic), new ConsumerConfig(name)
            {
                DurableName = name,
                AckPolicy = ConsumerConfigAckPolicy.Explicit,
                AckWait = settings.AckWait,
                DeliverPolicy = settings.FromStart ? ConsumerConfigDeliverPolicy.All : ConsumerConfigDeliverPolicy.New,
                MaxAckPending = 4096,
                MaxDeliver = -1,
            }, cancellationToken);
        }
        return new NatsJetStreamConsumer(topic, consumer);
    }

    public async ValueTask<IReadOnlyList<ConsumerGroupState>> DescribeAsync(string topic, CancellationToken cancellationToken = default)
    {
        await EnsureStreamAsync(topic, cancellationToken);
        var states = new List<ConsumerGroupState>();
        await foreach (var consumer in _js.ListConsumersAsync(StreamName(topic), cancellationToken))
        {
            var info = consumer.Info;
            states.Add(new ConsumerGroupState(topic, info.Config.DurableName ?? info.Name, (long)info.NumPending, info.NumAckPending, info.NumRedelivered));
        }
        return states;
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
