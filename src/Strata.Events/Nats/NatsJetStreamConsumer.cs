using System.Threading.Channels;
using NATS.Client.JetStream;
using Strata.Events.Transport;
using Strata.Events.Transport.Partitioning;

namespace Strata.Events.Nats;

/// <summary>A member of a group on a partitioned JetStream topic: for each partition it holds a lease on, a loop pulls
/// from that partition's durable consumer (batches of up to 256, one-second pull requests) into a queue the member's
/// fetches take from; buffered plus handed-out messages are bounded by the member's max ack pending. Giving a partition
/// up stops its loop once its pull request has ended (so no message is in flight to this member) and negatively
/// acknowledges what was buffered but not handed out, which JetStream redelivers, ahead of newer messages, to the next
/// holder.</summary>
internal sealed class NatsJetStreamConsumer(string topic, INatsJSConsumer[] partitions, ConsumerSettings settings) : IEventConsumer, IPartitionReader
{
    private static readonly TimeSpan PullExpiry = TimeSpan.FromSeconds(1);
    private readonly Lane?[] _lanes = new Lane?[partitions.Length];
    private readonly Lock _gate = new();
    private readonly Channel<bool> _doorbell = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _disposing = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, NatsAck> _unacknowledged = new();
    private int _outstanding;
    private TaskCompletionSource _roomFreed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _next;

    public PartitionAssignment Assignment { get; set; } = null!;

    private sealed class Lane
    {
        public readonly Queue<INatsJSMsg<byte[]>> Queue = new();
        public volatile bool Stop;
        public Task Loop = Task.CompletedTask;
    }

    public void Acquired(int partition)
    {
        var lane = new Lane();
        lock (_gate)
        {
            _lanes[partition] = lane;
        }
        lane.Loop = Task.Run(() => PullAsync(partition, lane));
    }

    private async Task PullAsync(int partition, Lane lane)
    {
        var token = _disposing.Token;
        while (!lane.Stop && !token.IsCancellationRequested)
        {
            try
            {
                var freed = Volatile.Read(ref _roomFreed);
                var room = settings.MaxAckPending - Volatile.Read(ref _outstanding);
                if (room <= 0)
                {
                    // Full: wait for acknowledgements to make room (checked again after a while regardless).
                    try
                    {
                        await freed.Task.WaitAsync(TimeSpan.FromMilliseconds(100), token);
                    }
                    catch (TimeoutException)
                    {
                    }
                    continue;
                }
                await foreach (var message in partitions[partition].FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = Math.Min(room, 256), Expires = PullExpiry }, cancellationToken: token))
                {
                    Interlocked.Increment(ref _outstanding);
                    lock (_gate)
                    {
                        lane.Queue.Enqueue(message);
                    }
                    _doorbell.Writer.TryWrite(true);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The server is restarting or unreachable: try again shortly.
                try
                {
                    await Task.Delay(200, token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public async Task QuiesceAsync(int partition)
    {
        Lane? lane;
        lock (_gate)
        {
            lane = _lanes[partition];
        }
        if (lane is null)
        {
            return;
        }
        lane.Stop = true;
        await lane.Loop;
        List<INatsJSMsg<byte[]>> unread;
        lock (_gate)
        {
            unread = [.. lane.Queue];
            lane.Queue.Clear();
            if (_lanes[partition] == lane)
            {
                _lanes[partition] = null;
            }
        }
        Interlocked.Add(ref _outstanding, -unread.Count);
        foreach (var message in unread)
        {
            try
            {
                await message.NakAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Unreachable: the message comes back after the ack wait instead.
            }
        }
    }

    public async ValueTask<IReadOnlyList<Delivery>> FetchAsync(int max, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        Assignment.Polled();
        // Hand out at most half of what may be outstanding, so the partitions' loops can pull the next messages while
        // these are handled instead of after they are acknowledged.
        max = Math.Min(max, Math.Max(1, settings.MaxAckPending / 2));
        var result = new List<Delivery>();
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            lock (_gate)
            {
                var readable = Assignment.Readable;
                // Start at a different partition each time, so a busy one does not starve the others.
                for (var i = 0; i < readable.Length && result.Count < max; i++)
                {
                    var p = readable[(i + _next) % readable.Length];
                    var lane = _lanes[p];
                    if (lane is null || lane.Stop)
                    {
                        continue;
                    }
                    var taken = 0;
                    while (result.Count < max && lane.Queue.TryDequeue(out var message))
                    {
                        result.Add(ToDelivery(p, message));
                        taken++;
                    }
                    if (taken > 0)
                    {
                        Assignment.HandedOut(p, taken);
                    }
                }
                _next++;
            }
            if (result.Count > 0)
            {
                return result;
            }
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                return result;
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(remaining);
            try
            {
                await _doorbell.Reader.WaitToReadAsync(timeout.Token);
                _doorbell.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return result;
            }
        }
    }

    private NatsAck Track(NatsAck ack)
    {
        _unacknowledged[ack.Sequence] = ack;
        return ack;
    }

    private Delivery ToDelivery(int partition, INatsJSMsg<byte[]> message)
    {
        var headers = message.Headers;
        var key = headers?.TryGetValue(NatsJetStreamTransport.KeyHeader, out var k) == true ? k.ToString() : string.Empty;
        var target = headers?.TryGetValue(NatsJetStreamTransport.TargetHeader, out var t) == true ? t.ToString() : null;
        var id = headers?.TryGetValue("Nats-Msg-Id", out var i) == true ? i.ToString() : string.Empty;
        var metadata = message.Metadata;
        return new Delivery(topic, id, key, message.Data ?? [], target, (int)(metadata?.NumDelivered ?? 1), (long)(metadata?.Sequence.Stream ?? 0))
        {
            AckHandle = Track(new NatsAck(partition, metadata?.Sequence.Stream ?? 0, message)),
        };
    }

    public async ValueTask AckAsync(IReadOnlyList<Delivery> deliveries, CancellationToken cancellationToken = default)
    {
        foreach (var delivery in deliveries)
        {
            var ack = (NatsAck)delivery.AckHandle!;
            await ack.Message.AckAsync(cancellationToken: cancellationToken);
            _unacknowledged.TryRemove(ack.Sequence, out _);
            Interlocked.Decrement(ref _outstanding);
            Assignment.Acknowledged(ack.Partition, 1);
        }
        Interlocked.Exchange(ref _roomFreed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        // Handed out and never acknowledged (the member stopped mid-batch): back to the group now, ahead of newer
        // messages, before the partitions are given up.
        foreach (var ack in _unacknowledged.Values.OrderBy(a => a.Sequence))
        {
            try
            {
                await ack.Message.NakAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Unreachable: redelivered after the ack wait instead.
            }
        }
        _unacknowledged.Clear();
        await Assignment.DisposeAsync();
        await _disposing.CancelAsync();
        foreach (var lane in _lanes)
        {
            if (lane is not null)
            {
                await lane.Loop;
            }
        }
        _disposing.Dispose();
    }

    private sealed record NatsAck(int Partition, ulong Sequence, INatsJSMsg<byte[]> Message);
}
