using System.Collections.Concurrent;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using Strata.Events.Embedded;
using Strata.Events.Transport;
using Strata.Events.Transport.Partitioning;

namespace Strata.Events.Nats;

/// <summary>NATS JetStream as the broker: one stream per topic (<c>{prefix}_{topic}</c>, file storage, a dedup window on
/// <c>Nats-Msg-Id</c>) whose subjects <c>{prefix}.{topic}.{p}</c> are its partitions (a message goes to the one its key
/// hashes to); per group, one durable pull consumer with explicit acks per partition (<c>{group}-p{p}</c>), each read by
/// the member holding its lease (<see cref="PartitionAssignment"/>, state in the key-value bucket <c>{prefix}_groups</c>).
/// The ordering key and target group travel as headers.</summary>
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
    private readonly PartitionOptions _partitioning;
    private readonly SemaphoreSlim _groupsGate = new(1, 1);
    private INatsKVStore? _groups;

    private readonly TimeProvider _time;

    public NatsJetStreamTransport(string url, string prefix, TimeSpan retention, TimeSpan dedupWindow, PartitionOptions? partitioning = null, TimeProvider? time = null)
    {
        _partitioning = partitioning ?? PartitionOptions.Default;
        _time = time ?? TimeProvider.System;
        _partitioning.Validate();
        _connection = new NatsConnection(new NatsOpts { Url = url, Name = "strata", ConnectTimeout = TimeSpan.FromSeconds(5), CommandTimeout = TimeSpan.FromSeconds(10) });
        _js = new NatsJSContext(_connection);
        _prefix = prefix;
        _retention = retention;
        _dedupWindow = dedupWindow;
    }

    public string Name => "nats";

    public string StreamName(string topic) => $"{_prefix}_{topic.Replace('.', '_')}";

    public string Subject(string topic, int partition) => $"{_prefix}.{topic}.{partition}";

    internal static string ConsumerName(string group, int partition) => $"{group.Replace('.', '_')}-p{partition}";

    private async Task<INatsKVStore> GroupsAsync(CancellationToken cancellationToken)
    {
        if (_groups is { } groups)
        {
            return groups;
        }
        await _groupsGate.WaitAsync(cancellationToken);
        try
        {
            return _groups ??= await new NatsKVContext(_js).CreateOrUpdateStoreAsync(
                new NatsKVConfig($"{_prefix}_groups") { History = 1, Storage = NatsKVStorageType.File, Description = "Strata consumer groups: members and partition leases" },
                cancellationToken);
        }
        finally
        {
            _groupsGate.Release();
        }
    }

    private Task EnsureStreamAsync(string topic, CancellationToken cancellationToken)
    {
        if (!EmbeddedEventLog.IsValidName(topic))
        {
            throw new ArgumentException($"'{topic}' is not a valid topic name", nameof(topic));
        }
        var task = _streams.GetOrAdd(topic, t => _js.CreateOrUpdateStreamAsync(new StreamConfig(StreamName(t), [$"{_prefix}.{t}.*"])
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
            acks[i] = _js.PublishAsync(Subject(topic, _partitioning.PartitionOf(message.Key, message.Id)), message.Body, opts: new NatsJSPubOpts { MsgId = message.Id }, headers: headers, cancellationToken: cancellationToken).AsTask();
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
        // Every partition's consumer exists from the moment the group does, so none starts later than the group.
        var partitions = new INatsJSConsumer[_partitioning.Partitions];
        for (var p = 0; p < partitions.Length; p++)
        {
            var name = ConsumerName(group, p);
            try
            {
                partitions[p] = await _js.GetConsumerAsync(StreamName(topic), name, cancellationToken);
            }
            catch (NatsJSApiException e) when (e.Error.Code == 404)
            {
                partitions[p] = await _js.CreateOrUpdateConsumerAsync(StreamName(topic), new ConsumerConfig(name)
                {
                    DurableName = name,
                    Description = group,
                    FilterSubject = Subject(topic, p),
                    AckPolicy = ConsumerConfigAckPolicy.Explicit,
                    AckWait = settings.AckWait,
                    DeliverPolicy = settings.FromStart ? ConsumerConfigDeliverPolicy.All : ConsumerConfigDeliverPolicy.New,
                    MaxAckPending = 4096,
                    MaxDeliver = -1,
                }, cancellationToken);
            }
        }
        var consumer = new NatsJetStreamConsumer(topic, partitions, settings);
        var groups = await GroupsAsync(cancellationToken);
        consumer.Assignment = new PartitionAssignment(new NatsGroupStateStore(groups), $"{topic}={group}", settings.ConsumerName, _partitioning,
            settings.AckWait, consumer, _time);
        await consumer.Assignment.StartAsync(cancellationToken);
        return consumer;
    }

    public async ValueTask<IReadOnlyList<ConsumerGroupState>> DescribeAsync(string topic, CancellationToken cancellationToken = default)
    {
        await EnsureStreamAsync(topic, cancellationToken);
        var groups = new Dictionary<string, ConsumerGroupState>(StringComparer.Ordinal);
        await foreach (var consumer in _js.ListConsumersAsync(StreamName(topic), cancellationToken))
        {
            var info = consumer.Info;
            var name = string.IsNullOrEmpty(info.Config.Description) ? info.Config.DurableName ?? info.Name : info.Config.Description;
            groups[name] = groups.TryGetValue(name, out var sum)
                ? sum with { Pending = sum.Pending + (long)info.NumPending, InFlight = sum.InFlight + info.NumAckPending, Redelivered = sum.Redelivered + info.NumRedelivered }
                : new ConsumerGroupState(topic, name, (long)info.NumPending, info.NumAckPending, info.NumRedelivered);
        }
        return [.. groups.Values];
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
