using System.Globalization;
using System.Text.Json;
using Strata.Events.Transport;

namespace Strata.Events.Embedded;

/// <summary>A consumer group's position on a topic log. Offsets below <see cref="Committed"/> are done; above it,
/// acknowledged offsets are remembered until the gap below them closes. Fetched messages are leased to one member
/// until acked or the lease ends (then they are delivered again, first, in offset order). Order per key holds across
/// members: a key with a message leased to one member is not handed to another until that message is acked, and a
/// message passed over for that reason keeps every later message of its key behind it.
/// The committed offset is saved to a small file (at most every 50 ms, and on close); after a crash, what was
/// acknowledged later than that is delivered again (at-least-once; the inbox makes it harmless).
/// All members run under the topic's lock.</summary>
internal sealed class GroupCursor
{
    private static readonly TimeSpan SaveInterval = TimeSpan.FromMilliseconds(50);
    private readonly TopicLog _log;
    private readonly string _path;
    private readonly HashSet<long> _acked = [];
    private readonly SortedSet<long> _pending = [];
    private readonly Dictionary<long, LeaseInfo> _leases = [];
    private readonly Dictionary<long, int> _deliveries = [];
    private readonly Dictionary<string, KeyOwner> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _held = new(StringComparer.Ordinal);
    private long _cursor;
    private long _lastSaved = long.MinValue;
    private long _savedCommitted = -1;

    public GroupCursor(TopicLog log, string name, string path, long committed)
    {
        _log = log;
        Name = name;
        _path = path;
        Committed = committed;
        _cursor = committed;
    }

    public string Name { get; }

    public long Committed { get; private set; }

    public long Redelivered { get; private set; }

    public static GroupCursor Load(TopicLog log, string name, string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        var committed = json.RootElement.GetProperty("committed").GetInt64();
        var cursor = new GroupCursor(log, name, path, Math.Clamp(committed, log.FirstOffset, log.NextOffset)) { _savedCommitted = committed };
        return cursor;
    }

    public List<Delivery> Fetch(string consumer, int max, TimeSpan ackWait, int maxAckPending)
    {
        var now = _log.NowMicros();
        ExpireLeases(now);
        var room = Math.Min(max, maxAckPending - _held.GetValueOrDefault(consumer));
        var result = new List<Delivery>();
        if (room <= 0)
        {
            return result;
        }
        var deadline = now + (long)ackWait.TotalMicroseconds;
        HashSet<string>? blocked = null;
        List<long>? taken = null;
        foreach (var offset in _pending)
        {
            if (result.Count >= room)
            {
                break;
            }
            var record = _log.Read(offset);
            if (record is null)
            {
                (taken ??= []).Add(offset);
                MarkDone(offset);
                continue;
            }
            if (IsBlocked(record.Key, consumer, blocked))
            {
                (blocked ??= new(StringComparer.Ordinal)).Add(record.Key);
                continue;
            }
            (taken ??= []).Add(offset);
            result.Add(Lease(record, consumer, deadline));
        }
        if (taken is not null)
        {
            foreach (var offset in taken)
            {
                _pending.Remove(offset);
            }
        }
        var scanLimit = (room * 8) + 64;
        var next = _log.NextOffset;
        for (var scanned = 0; result.Count < room && _cursor < next && scanned < scanLimit; scanned++)
        {
            var offset = _cursor++;
            var record = _log.Read(offset);
            if (record is null || (record.TargetGroup is not null && record.TargetGroup != Name))
            {
                MarkDone(offset);
                continue;
            }
            if (IsBlocked(record.Key, consumer, blocked))
            {
                (blocked ??= new(StringComparer.Ordinal)).Add(record.Key);
                _pending.Add(offset);
                continue;
            }
            result.Add(Lease(record, consumer, deadline));
        }
        return result;
    }

    private bool IsBlocked(string key, string consumer, HashSet<string>? blocked) =>
        (blocked is not null && blocked.Contains(key)) || (_keys.TryGetValue(key, out var owner) && owner.Consumer != consumer);

    private Delivery Lease(LogRecord record, string consumer, long deadline)
    {
        var count = _deliveries.GetValueOrDefault(record.Offset) + 1;
        _deliveries[record.Offset] = count;
        if (count > 1)
        {
            Redelivered++;
        }
        _leases[record.Offset] = new LeaseInfo(consumer, deadline, record.Key);
        _keys[record.Key] = _keys.TryGetValue(record.Key, out var owner) ? owner with { Count = owner.Count + 1 } : new KeyOwner(consumer, 1);
        _held[consumer] = _held.GetValueOrDefault(consumer) + 1;
        return new Delivery(_log.Name, record.Id, record.Key, record.Body, record.TargetGroup, count, record.Offset);
    }

    private void Unlease(long offset, LeaseInfo lease)
    {
        _leases.Remove(offset);
        var owner = _keys[lease.Key];
        if (owner.Count == 1) { _keys.Remove(lease.Key); } else { _keys[lease.Key] = owner with { Count = owner.Count - 1 }; }
        var held = _held[lease.Consumer];
        if (held == 1) { _held.Remove(lease.Consumer); } else { _held[lease.Consumer] = held - 1; }
    }

    private void ExpireLeases(long now)
    {
        List<long>? expired = null;
        foreach (var (offset, lease) in _leases)
        {
            if (lease.Deadline <= now)
            {
                (expired ??= []).Add(offset);
            }
        }
        if (expired is null)
        {
            return;
        }
        foreach (var offset in expired)
        {
            Unlease(offset, _leases[offset]);
            _pending.Add(offset);
        }
    }

    public void Ack(IEnumerable<long> offsets)
    {
        foreach (var offset in offsets)
        {
            if (offset < Committed || _acked.Contains(offset) || offset >= _cursor)
            {
                continue;
            }
            if (_leases.TryGetValue(offset, out var lease))
            {
                Unlease(offset, lease);
            }
            _pending.Remove(offset);
            MarkDone(offset);
        }
        var now = _log.NowMicros();
        if (Committed != _savedCommitted && now - _lastSaved >= (long)SaveInterval.TotalMicroseconds)
        {
            Save();
            _lastSaved = now;
        }
        _log.Signal();
    }

    /// <summary>A member left: its leased messages go back to the group at once.</summary>
    public void Release(string consumer)
    {
        var mine = _leases.Where(p => p.Value.Consumer == consumer).ToList();
        foreach (var (offset, lease) in mine)
        {
            Unlease(offset, lease);
            _pending.Add(offset);
        }
        if (mine.Count > 0)
        {
            _log.Signal();
        }
    }

    private void MarkDone(long offset)
    {
        _deliveries.Remove(offset);
        _acked.Add(offset);
        while (_acked.Remove(Committed))
        {
            Committed++;
        }
    }

    /// <summary>Retention removed everything below <paramref name="first"/>: nothing there can be delivered.</summary>
    public void SkipTo(long first)
    {
        if (Committed >= first)
        {
            return;
        }
        _acked.RemoveWhere(o => o < first);
        _pending.RemoveWhere(o => o < first);
        Committed = first;
        _cursor = Math.Max(_cursor, first);
    }

    public ConsumerGroupState State() =>
        new(_log.Name, Name, _log.NextOffset - _cursor + _pending.Count, _leases.Count, Redelivered);

    public void Save()
    {
        var temp = _path + ".tmp";
        File.WriteAllText(temp, string.Create(CultureInfo.InvariantCulture, $"{{\"committed\":{Committed}}}"));
        File.Move(temp, _path, overwrite: true);
        _savedCommitted = Committed;
    }

    private readonly record struct LeaseInfo(string Consumer, long Deadline, string Key);

    private readonly record struct KeyOwner(string Consumer, int Count);
}
