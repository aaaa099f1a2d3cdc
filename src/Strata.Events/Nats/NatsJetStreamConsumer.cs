using System.Threading.Channels;
using NATS.Client.JetStream;
using Strata.Events.Transport;
using Strata.Events.Transport.Partitioning;

namespace Strata.Events.Nats;

/// <summary>A member of a group on a partitioned JetStream topic: for each partition it holds a lease on, a loop pulls
/// from that partition's durable consumer into a queue the member's fetches take from. Prefetched plus handed-out
/// messages never exceed the member's max ack pending across all its partitions: a loop reserves budget before each pull
/// request and gives back what the request did not fill. Bulk pulls take only what is on the partition (no-wait
/// requests, a share of the budget each); a loop finding its partition empty waits for the next message holding one
/// unit (a one-second request, 100 ms while other loops wait for budget, which it then lets go first). Giving a
/// partition up stops its loop once its pull request has ended (so no message is in flight to this member) and
/// negatively acknowledges what was buffered but not handed out, which JetStream redelivers, ahead of newer messages,
/// to the next holder.</summary>
internal sealed class NatsJetStreamConsumer(string topic, INatsJSConsumer[] partitions, ConsumerSettings settings) : IEventConsumer, IPartitionReader
{
    private static readonly TimeSpan PullExpiry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ContendedPullExpiry = TimeSpan.FromMilliseconds(100);
    private readonly Lane?[] _lanes = new Lane?[partitions.Length];
    private readonly Lock _gate = new();
    private readonly Channel<bool> _doorbell = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _disposing = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, NatsAck> _unacknowledged = new();
    private int _outstanding;
    private int _waiting;
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
        var consumer = partitions[partition];
        while (!lane.Stop && !token.IsCancellationRequested)
        {
            try
            {
                // What is on the partition now, in batches of this loop's share of the free budget: the request ends
                // as soon as the server has sent what it has, so no budget stays reserved for messages not there.
                var reserved = await ReserveAsync(Math.Max(1, Math.Min(256, settings.MaxAckPending / (2 * Math.Max(1, LaneCount())))), lane, token);
                if (reserved == 0)
                {
                    continue;
                }
                var received = await ReceiveAsync(partition, lane, consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = reserved }, cancellationToken: token), reserved);
                if (received > 0)
                {
                    continue;
                }
                // Nothing there: wait for the next message holding one unit of budget. Other loops waiting for room get
                // it back soon (a short request), and this loop lets them go first.
                if (Volatile.Read(ref _waiting) > 0)
                {
                    await GiveWayAsync(token);
                    continue;
                }
                reserved = await ReserveAsync(1, lane, token);
                if (reserved == 0)
                {
                    continue;
                }
                var expires = Volatile.Read(ref _waiting) > 0 || settings.MaxAckPending < LaneCount() ? ContendedPullExpiry : PullExpiry;
                received = await ReceiveAsync(partition, lane, consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 1, Expires = expires }, cancellationToken: token), 1);
                if (received == 0 && Volatile.Read(ref _waiting) > 0)
                {
                    await GiveWayAsync(token);
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

    private int LaneCount()
    {
        var n = 0;
        foreach (var lane in _lanes)
        {
            if (lane is { Stop: false })
            {
                n++;
            }
        }
        return n;
    }

    /// <summary>Takes up to <paramref name="want"/> units of the member's budget (prefetched plus handed out never
    /// exceeds max ack pending, across all partitions), waiting for acknowledgements when there is none; 0 when the
    /// lane stops or the wait timed out.</summary>
    private async ValueTask<int> ReserveAsync(int want, Lane lane, CancellationToken token)
    {
        while (!lane.Stop)
        {
            var freed = Volatile.Read(ref _roomFreed);
            var outstanding = Volatile.Read(ref _outstanding);
            var room = settings.MaxAckPending - outstanding;
            if (room > 0)
            {
                var take = Math.Min(want, room);
                if (Interlocked.CompareExchange(ref _outstanding, outstanding + take, outstanding) == outstanding)
                {
                    return take;
                }
                continue;
            }
            Interlocked.Increment(ref _waiting);
            try
            {
                await freed.Task.WaitAsync(ContendedPullExpiry, token);
            }
            catch (TimeoutException)
            {
                return 0;
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
        return 0;
    }

    private void Release(int units)
    {
        if (units > 0)
        {
            Interlocked.Add(ref _outstanding, -units);
            Interlocked.Exchange(ref _roomFreed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    /// <summary>Lets loops waiting for budget take it first: waits for the next release (or a short while).</summary>
    private async Task GiveWayAsync(CancellationToken token)
    {
        try
        {
            await Volatile.Read(ref _roomFreed).Task.WaitAsync(ContendedPullExpiry, token);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>Queues what a pull request delivers (never more than it reserved) and gives back the unused budget.</summary>
    private async ValueTask<int> ReceiveAsync(int partition, Lane lane, IAsyncEnumerable<INatsJSMsg<byte[]>> messages, int reserved)
    {
        var received = 0;
        try
        {
            await foreach (var message in messages)
            {
                received++;
                lock (_gate)
                {
                    lane.Queue.Enqueue(message);
                }
                _doorbell.Writer.TryWrite(true);
            }
        }
        finally
        {
            Release(reserved - received);
        }
        return received;
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
        Release(unread.Count);
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
        var started = Assignment.Time.GetTimestamp();
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
            var remaining = wait - Assignment.Time.GetElapsedTime(started);
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
        var acknowledged = 0;
        try
        {
            foreach (var delivery in deliveries)
            {
                var ack = (NatsAck)delivery.AckHandle!;
                await ack.Message.AckAsync(cancellationToken: cancellationToken);
                _unacknowledged.TryRemove(ack.Sequence, out _);
                Assignment.Acknowledged(ack.Partition, 1);
                acknowledged++;
            }
        }
        finally
        {
            Release(acknowledged);
        }
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
