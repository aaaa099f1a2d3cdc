using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Events.Transport.Partitioning;

/// <summary>One member's share of a group's partitions. A document per group and topic on the broker lists the live
/// members (each with the time its heartbeat runs out) and the lease on each partition; every member rewrites it by
/// compare-and-set on each tick (a third of the member timeout, at most a second):
/// <list type="bullet">
/// <item>members whose heartbeat ran out are dropped, and so are their leases;</item>
/// <item>partition p belongs to the (p mod n)-th live member by name, so shares are even and every member computes the
/// same map;</item>
/// <item>a member takes a partition that is its share only once no one else holds it, and gives one up that is no
/// longer its share only after it stopped reading it and everything it handed out of it was acknowledged: a
/// partition is never read by two members at once, so events of one key are handled in order across the group;</item>
/// <item>a member holding unacknowledged messages that has not fetched for the ack wait is stuck (Kafka's max poll
/// interval): it leaves the group, and its partitions, with what it held, go to the others; it stays out until it
/// fetches again (its count of unacknowledged messages is reset as it leaves, so without that it would rejoin on its
/// next tick and could take back a partition before another member claimed what it held there).</item>
/// </list></summary>
internal sealed class PartitionAssignment : IAsyncDisposable
{
    private readonly IGroupStateStore _store;
    private readonly string _key;
    private readonly string _member;
    private readonly PartitionOptions _options;
    private readonly TimeSpan _ackWait;
    private readonly IPartitionReader _reader;
    private readonly TimeProvider _time;

    /// <summary>The clock of the group protocol (leases, heartbeats) and of the reader's own timing.</summary>
    public TimeProvider Time => _time;
    private readonly int[] _inFlight;
    private readonly long[] _lastHandOut;
    private readonly HashSet<int> _held = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _tickGate = new(1, 1);
    private volatile int[] _readable = [];
    private long _lastPoll;
    private long _leftStuck = long.MinValue;
    private long _lastWrite;
    private Task _loop = Task.CompletedTask;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PartitionAssignment(IGroupStateStore store, string key, string member, PartitionOptions options, TimeSpan ackWait, IPartitionReader reader, TimeProvider time)
    {
        _store = store;
        _key = key;
        _member = member;
        _options = options;
        _ackWait = ackWait;
        _reader = reader;
        _time = time;
        _inFlight = new int[options.Partitions];
        _lastHandOut = new long[options.Partitions];
        _lastPoll = time.GetTimestamp();
        _lastWrite = time.GetTimestamp();
    }

    private TimeSpan Interval => TimeSpan.FromMilliseconds(Math.Min(1000, _options.MemberTimeout.TotalMilliseconds / 3));

    /// <summary>The partitions this member may read now.</summary>
    public int[] Readable => _readable;

    /// <summary>Joins the group (takes whatever share is free) and keeps the member's place in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await TickAsync(cancellationToken);
        _loop = Task.Run(LoopAsync, CancellationToken.None);
    }

    /// <summary>The member is fetching (alive and not stuck).</summary>
    public void Polled() => Interlocked.Exchange(ref _lastPoll, _time.GetTimestamp());

    public void HandedOut(int partition, int count)
    {
        Interlocked.Add(ref _inFlight[partition], count);
        Interlocked.Exchange(ref _lastHandOut[partition], _time.GetTimestamp());
    }

    /// <summary>Messages of the partition handed out and not acknowledged, handed out within the ack wait (older ones
    /// the broker redelivers anyway).</summary>
    private bool Draining(int partition) =>
        Volatile.Read(ref _inFlight[partition]) > 0 && _time.GetElapsedTime(Interlocked.Read(ref _lastHandOut[partition])) < _ackWait;

    public void Acknowledged(int partition, int count)
    {
        // Never below zero: acknowledgements may arrive for messages of a partition given up (and reset) meanwhile.
        int current, next;
        do
        {
            current = Volatile.Read(ref _inFlight[partition]);
            next = Math.Max(0, current - count);
        }
        while (Interlocked.CompareExchange(ref _inFlight[partition], next, current) != current);
    }

    /// <summary>Completes when the readable partitions change, or after <paramref name="wait"/>.</summary>
    public async Task WaitForChangeAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            await Volatile.Read(ref _changed).Task.WaitAsync(wait, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }

    private async Task LoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, _time, token);
                await TickAsync(token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The broker is unreachable: once the leases may have run out, read nothing until they are renewed.
                if (_time.GetElapsedTime(Interlocked.Read(ref _lastWrite)) > _options.MemberTimeout * 0.8)
                {
                    await LetGoAsync(_held.ToList());
                    _held.Clear();
                    Publish();
                }
            }
        }
    }

    private bool Stuck => _inFlight.Any(n => n > 0) && _time.GetElapsedTime(Interlocked.Read(ref _lastPoll)) > _ackWait;

    /// <summary>Out of the group: stuck now, or left stuck and has not fetched since.</summary>
    private bool Out()
    {
        if (Stuck)
        {
            Interlocked.Exchange(ref _leftStuck, _time.GetTimestamp());
            return true;
        }
        return Interlocked.Read(ref _lastPoll) <= Interlocked.Read(ref _leftStuck);
    }

    private void Reset(int partition) => Interlocked.Exchange(ref _inFlight[partition], 0);

    /// <summary>One round: renew this member's place, take what became its share, give up what is no longer (the
    /// background loop runs it every <see cref="Interval"/>; tests call it directly).</summary>
    internal async Task TickAsync(CancellationToken cancellationToken)
    {
        await _tickGate.WaitAsync(cancellationToken);
        try
        {
            // Optimistic: a round whose write loses to another member's reads the state again.
            for (var attempt = 0; attempt < 8 && !await TryRoundAsync(cancellationToken); attempt++)
            {
            }
        }
        finally
        {
            _tickGate.Release();
        }
    }

    /// <summary>Reads the group's state, renews or drops this member, settles its leases and writes the state back if
    /// no one wrote meanwhile (false: read again).</summary>
    private async Task<bool> TryRoundAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var (value, version) = await _store.ReadAsync(_key, cancellationToken);
        var state = GroupState.Parse(value);
        state.Expire(now);
        var live = !Out();
        var until = now + (long)_options.MemberTimeout.TotalMilliseconds;
        if (live)
        {
            state.Members[_member] = until;
        }
        else
        {
            state.Members.Remove(_member);
        }
        var share = Share(state, live);
        var (acquired, release) = TakeShare(state, share, until);
        var stillHeld = release.Count > 0 ? await ReleaseAsync(state, release, live, until) : [];
        if (!await _store.TryWriteAsync(_key, state.Format(), version, cancellationToken))
        {
            return false;
        }
        Interlocked.Exchange(ref _lastWrite, _time.GetTimestamp());
        Settle(acquired, release, stillHeld, share);
        return true;
    }

    /// <summary>Takes (or renews) the leases of this member's share that are free or its own; returns the partitions newly
    /// acquired and those to give up (out of its share, or lost while the broker could not be reached).</summary>
    private (List<int> Acquired, List<int> Release) TakeShare(GroupState state, HashSet<int> share, long until)
    {
        var release = new List<int>();
        var acquired = new List<int>();
        for (var p = 0; p < _options.Partitions; p++)
        {
            state.Leases.TryGetValue(p, out var lease);
            var mine = lease is not null && lease.Member == _member;
            if (share.Contains(p) && (lease is null || mine))
            {
                state.Leases[p] = new Lease(_member, until);
                if (!_held.Contains(p))
                {
                    acquired.Add(p);
                }
            }
            else if (mine)
            {
                release.Add(p);
            }
            else if (_held.Contains(p))
            {
                // Lost while the broker could not be reached (expired and taken): stop reading it.
                release.Add(p);
            }
        }
        return (acquired, release);
    }

    /// <summary>Gives up what is no longer this member's share: stops reading it first, then drops the lease once nothing
    /// handed out of it is unacknowledged (a stuck member gives everything up at once). Returns the partitions still
    /// held to drain.</summary>
    private async Task<List<int>> ReleaseAsync(GroupState state, List<int> release, bool live, long until)
    {
        var stillHeld = new List<int>();
        _readable = [.. _readable.Except(release)];
        await Task.WhenAll(release.Select(_reader.QuiesceAsync));
        foreach (var p in release)
        {
            if (live && Draining(p) && state.Leases.TryGetValue(p, out var l) && l.Member == _member)
            {
                state.Leases[p] = new Lease(_member, until);
                stillHeld.Add(p);
            }
            else if (state.Leases.TryGetValue(p, out var held) && held.Member == _member)
            {
                state.Leases.Remove(p);
            }
        }
        return stillHeld;
    }

    /// <summary>Once the state is written: forgets what was given up, starts what was acquired, and announces the new
    /// readable set when it changed.</summary>
    private void Settle(List<int> acquired, List<int> release, List<int> stillHeld, HashSet<int> share)
    {
        foreach (var p in release.Except(stillHeld))
        {
            _held.Remove(p);
            Reset(p);
        }
        foreach (var p in acquired)
        {
            _held.Add(p);
            Reset(p);
            _reader.Acquired(p);
        }
        var readable = _held.Except(stillHeld).Where(share.Contains).Order().ToArray();
        if (!readable.AsSpan().SequenceEqual(_readable))
        {
            _readable = readable;
            Publish();
        }
    }

    private HashSet<int> Share(GroupState state, bool live)
    {
        var share = new HashSet<int>();
        if (!live)
        {
            return share;
        }
        var members = state.Members.Keys.Order(StringComparer.Ordinal).ToList();
        var index = members.IndexOf(_member);
        for (var p = 0; p < _options.Partitions; p++)
        {
            if (p % members.Count == index)
            {
                share.Add(p);
            }
        }
        return share;
    }

    private void Publish()
    {
        var previous = Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
    }

    private async Task LetGoAsync(IReadOnlyList<int> partitions)
    {
        _readable = [];
        await Task.WhenAll(partitions.Select(_reader.QuiesceAsync));
    }

    /// <summary>Leaves the group: stops reading, then gives up its leases and its place in one write (best effort: if
    /// the broker is unreachable they run out after the member timeout).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _loop;
        await _tickGate.WaitAsync();
        try
        {
            await LetGoAsync(_held.ToList());
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            for (var attempt = 0; attempt < 4; attempt++)
            {
                var (value, version) = await _store.ReadAsync(_key, timeout.Token);
                var state = GroupState.Parse(value);
                state.Members.Remove(_member);
                foreach (var p in state.Leases.Where(l => l.Value.Member == _member).Select(l => l.Key).ToList())
                {
                    state.Leases.Remove(p);
                }
                if (await _store.TryWriteAsync(_key, state.Format(), version, timeout.Token))
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Unreachable broker: the heartbeat and leases run out by themselves.
        }
        finally
        {
            _held.Clear();
            _tickGate.Release();
            _stopping.Dispose();
        }
    }

    internal sealed record Lease(string Member, long Until);

    /// <summary>The shared document: <c>{"members":{"name":until-ms},"leases":{"p":{"member":..,"until":..}}}</c>.</summary>
    internal sealed class GroupState
    {
        private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

        [JsonPropertyName("members")]
        public Dictionary<string, long> Members { get; set; } = new(StringComparer.Ordinal);

        [JsonPropertyName("leases")]
        public Dictionary<int, Lease> Leases { get; set; } = [];

        public static GroupState Parse(string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                return new GroupState();
            }
            var state = JsonSerializer.Deserialize<GroupState>(value, Json) ?? new GroupState();
            state.Members = new Dictionary<string, long>(state.Members, StringComparer.Ordinal);
            return state;
        }

        public void Expire(long now)
        {
            foreach (var member in Members.Where(m => m.Value <= now).Select(m => m.Key).ToList())
            {
                Members.Remove(member);
            }
            foreach (var partition in Leases.Where(l => l.Value.Until <= now || !Members.ContainsKey(l.Value.Member)).Select(l => l.Key).ToList())
            {
                Leases.Remove(partition);
            }
        }

        public string Format() => JsonSerializer.Serialize(this, Json);
    }
}
