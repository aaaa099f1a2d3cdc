using System.Buffers;
using System.Globalization;

namespace Strata.Events.Embedded;

/// <summary>The log of one topic: segment files of <see cref="LogRecord"/>s appended with one positional write per
/// batch (so a killed process loses nothing it acknowledged; with <c>fsync</c> a lost machine neither), recovered on
/// open by scanning and cutting a torn tail, plus the consumer groups' cursors. One lock guards it all: every
/// operation on it is short and in memory except the one write of a batch.</summary>
internal sealed class TopicLog : IDisposable
{
    private const int CacheSize = 1 << 12;
    private const int ChunkBytes = 64 * 1024;
    private readonly EmbeddedLogOptions _options;
    private readonly TimeProvider _time;
    private readonly List<LogSegment> _segments = [];
    private readonly LogRecord?[] _cache = new LogRecord?[CacheSize];
    // Ids seen within the dedup window, as 128-bit hashes (no object per id for the GC to trace and promote).
    private readonly Dictionary<UInt128, long> _recentIds = [];
    private readonly Queue<(UInt128 Id, long TimeMicros)> _recentOrder = new();
    private readonly Dictionary<string, GroupCursor> _groups = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TopicLog(string name, string directory, EmbeddedLogOptions options, TimeProvider time)
    {
        Name = name;
        Directory = directory;
        _options = options;
        _time = time;
        System.IO.Directory.CreateDirectory(directory);
        System.IO.Directory.CreateDirectory(GroupsDirectory);
        Recover();
        foreach (var file in System.IO.Directory.EnumerateFiles(GroupsDirectory, "*.json"))
        {
            var group = System.IO.Path.GetFileNameWithoutExtension(file);
            _groups[group] = GroupCursor.Load(this, group, file);
        }
    }

    public string Name { get; }

    public string Directory { get; }

    public string GroupsDirectory => System.IO.Path.Combine(Directory, "groups");

    public object Gate { get; } = new();

    public long FirstOffset => _segments.Count == 0 ? 0 : _segments[0].BaseOffset;

    public long NextOffset => _segments.Count == 0 ? 0 : _segments[^1].NextOffset;

    public TimeProvider Time => _time;

    public IReadOnlyCollection<GroupCursor> Groups => _groups.Values;

    private void Recover()
    {
        var files = System.IO.Directory.EnumerateFiles(Directory, "*.log")
            .Select(f => (Path: f, Base: long.TryParse(System.IO.Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out var b) ? b : -1))
            .Where(f => f.Base >= 0).OrderBy(f => f.Base).ToList();
        var recentFrom = NowMicros() - (long)_options.DedupWindow.TotalMicroseconds;
        var header = new byte[LogRecord.HeaderSize];
        foreach (var (path, baseOffset) in files)
        {
            if (_segments.Count > 0 && _segments[^1].NextOffset != baseOffset)
            {
                // A gap means a later segment was written after an earlier one lost records: the log ends here.
                File.Delete(path);
                continue;
            }
            var segment = new LogSegment(path, baseOffset, writable: true);
            var fileLength = RandomAccess.GetLength(segment.Handle);
            long position = 0;
            while (position + LogRecord.HeaderSize <= fileLength)
            {
                RandomAccess.Read(segment.Handle, header, position);
                var length = LogRecord.PayloadLength(header);
                if (length < 0 || position + LogRecord.HeaderSize + length > fileLength)
                {
                    break;
                }
                var payload = new byte[length];
                RandomAccess.Read(segment.Handle, payload, position + LogRecord.HeaderSize);
                var record = LogRecord.Read(header, payload);
                if (record is null || record.Offset != segment.NextOffset)
                {
                    break;
                }
                segment.Add(position);
                segment.LastTimeMicros = record.TimeMicros;
                Remember(record);
                if (record.TimeMicros >= recentFrom)
                {
                    RememberId(record.Id, record.TimeMicros);
                }
                position += LogRecord.HeaderSize + length;
            }
            if (position < fileLength)
            {
                RandomAccess.SetLength(segment.Handle, position);
            }
            segment.Length = position;
            _segments.Add(segment);
        }
    }

    /// <summary>Appends the records not seen within the dedup window, in one write; returns how many were new.
    /// Caller holds <see cref="Gate"/>.</summary>
    public int Append(IReadOnlyList<Transport.OutgoingMessage> messages)
    {
        var now = NowMicros();
        ForgetOldIds(now);
        var records = new List<LogRecord>(messages.Count);
        var size = 0;
        var next = NextOffset;
        HashSet<string>? batchIds = null;
        foreach (var message in messages)
        {
            if (_recentIds.ContainsKey(IdHash(message.Id)) || !(batchIds ??= new(StringComparer.Ordinal)).Add(message.Id))
            {
                continue;
            }
            var record = new LogRecord(next + records.Count, now, message.Id, message.Key, message.TargetGroup, message.Body);
            records.Add(record);
            size += record.MaxSize;
        }
        if (records.Count == 0)
        {
            return 0;
        }
        var segment = ActiveSegment(next);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var written = 0;
            var positions = new long[records.Count];
            for (var i = 0; i < records.Count; i++)
            {
                positions[i] = segment.Length + written;
                written += records[i].Write(buffer.AsSpan(written));
            }
            RandomAccess.Write(segment.Handle, buffer.AsSpan(0, written), segment.Length);
            if (_options.Fsync)
            {
                RandomAccess.FlushToDisk(segment.Handle);
            }
            var start = segment.Length;
            segment.Length += written;
            segment.LastTimeMicros = now;
            // The cache keeps the batch's bytes in arrays of up to 64 KB (one per run of records), never one large
            // array per batch: those would land on the large object heap and cost a gen-2 collection each.
            byte[] chunk = [];
            var chunkStart = 0;
            for (var i = 0; i < records.Count; i++)
            {
                var at = (int)(positions[i] - start);
                var end = i + 1 < records.Count ? (int)(positions[i + 1] - start) : written;
                if (at - chunkStart + (end - at) > chunk.Length || at < chunkStart)
                {
                    var last = i;
                    while (last + 1 < records.Count && (last + 2 < records.Count ? (int)(positions[last + 2] - start) : written) - at <= ChunkBytes)
                    {
                        last++;
                    }
                    var chunkEnd = last + 1 < records.Count ? (int)(positions[last + 1] - start) : written;
                    chunk = buffer.AsSpan(at, chunkEnd - at).ToArray();
                    chunkStart = at;
                }
                segment.Add(positions[i]);
                Remember(records[i].InBatch(chunk, at - chunkStart));
                RememberId(records[i].Id, now);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        Signal();
        return records.Count;
    }

    private LogSegment ActiveSegment(long next)
    {
        if (_segments.Count == 0 || _segments[^1].Length >= _options.SegmentBytes)
        {
            var segment = new LogSegment(System.IO.Path.Combine(Directory, LogSegment.FileName(next)), next, writable: true);
            _segments.Add(segment);
            ApplyRetention();
        }
        return _segments[^1];
    }

    /// <summary>Deletes whole segments (never the active one) whose last record is older than the retention.</summary>
    public void ApplyRetention()
    {
        var cutoff = NowMicros() - (long)_options.Retention.TotalMicroseconds;
        while (_segments.Count > 1 && _segments[0].LastTimeMicros < cutoff)
        {
            var old = _segments[0];
            _segments.RemoveAt(0);
            old.Dispose();
            File.Delete(old.Path);
        }
        foreach (var group in _groups.Values)
        {
            group.SkipTo(FirstOffset);
        }
    }

    /// <summary>The record at an offset (from the cache of recent records, else one positional read); null when it
    /// is outside the retained log. Caller holds <see cref="Gate"/>.</summary>
    public LogRecord? Read(long offset)
    {
        var cached = _cache[offset & (CacheSize - 1)];
        if (cached is not null && cached.Offset == offset)
        {
            return cached;
        }
        var segment = FindSegment(offset);
        if (segment is null)
        {
            return null;
        }
        var position = segment.PositionOf(offset);
        // Read ahead: one positional read of up to 64 KB brings this record and the ones after it into the cache (a
        // group catching up reads on sequentially), instead of two reads per record.
        var last = offset;
        while (last + 1 < segment.NextOffset && EndOf(segment, last + 1) - position <= ChunkBytes)
        {
            last++;
        }
        var block = new byte[EndOf(segment, last) - position];
        RandomAccess.Read(segment.Handle, block, position);
        LogRecord? first = null;
        for (var o = offset; o <= last; o++)
        {
            var at = (int)(segment.PositionOf(o) - position);
            var length = LogRecord.PayloadLength(block.AsSpan(at, LogRecord.HeaderSize));
            var record = (length < 0 || at + LogRecord.HeaderSize + length > block.Length ? null
                : LogRecord.Read(block.AsSpan(at, LogRecord.HeaderSize), block.AsMemory(at + LogRecord.HeaderSize, length)))
                ?? throw new InvalidDataException($"topic {Name}: record {o} is corrupt");
            Remember(record);
            first ??= record;
        }
        return first;
    }

    private static long EndOf(LogSegment segment, long offset) =>
        offset + 1 < segment.NextOffset ? segment.PositionOf(offset + 1) : segment.Length;

    /// <summary>First offset whose record was appended at or after <paramref name="timeMicros"/>.</summary>
    public long OffsetAtOrAfter(long timeMicros)
    {
        foreach (var segment in _segments)
        {
            if (segment.LastTimeMicros < timeMicros)
            {
                continue;
            }
            long lo = segment.BaseOffset, hi = segment.NextOffset - 1;
            while (lo < hi)
            {
                var mid = lo + ((hi - lo) / 2);
                if (Read(mid)!.TimeMicros < timeMicros) { lo = mid + 1; } else { hi = mid; }
            }
            return lo;
        }
        return NextOffset;
    }

    private LogSegment? FindSegment(long offset)
    {
        int lo = 0, hi = _segments.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            var segment = _segments[mid];
            if (offset < segment.BaseOffset) { hi = mid - 1; }
            else if (offset >= segment.NextOffset) { lo = mid + 1; }
            else { return segment; }
        }
        return null;
    }

    public GroupCursor Group(string group, bool fromStart)
    {
        if (!_groups.TryGetValue(group, out var cursor))
        {
            cursor = new GroupCursor(this, group, System.IO.Path.Combine(GroupsDirectory, group + ".json"), fromStart ? FirstOffset : NextOffset);
            cursor.Save();
            _groups[group] = cursor;
        }
        return cursor;
    }

    /// <summary>A task that completes at the next append, ack or release. Caller holds <see cref="Gate"/>.</summary>
    public Task Changed => _changed.Task;

    public void Signal()
    {
        var previous = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    public long NowMicros() => _time.GetUtcNow().ToUnixTimeMilliseconds() * 1000;

    private void Remember(LogRecord record) => _cache[record.Offset & (CacheSize - 1)] = record;

    private static UInt128 IdHash(string id) => System.IO.Hashing.XxHash128.HashToUInt128(System.Runtime.InteropServices.MemoryMarshal.AsBytes(id.AsSpan()));

    private void RememberId(string id, long timeMicros)
    {
        var hash = IdHash(id);
        _recentIds[hash] = timeMicros;
        _recentOrder.Enqueue((hash, timeMicros));
    }

    private void ForgetOldIds(long now)
    {
        var cutoff = now - (long)_options.DedupWindow.TotalMicroseconds;
        while (_recentOrder.TryPeek(out var oldest) && oldest.TimeMicros < cutoff)
        {
            _recentOrder.Dequeue();
            if (_recentIds.TryGetValue(oldest.Id, out var time) && time == oldest.TimeMicros)
            {
                _recentIds.Remove(oldest.Id);
            }
        }
    }

    public void Dispose()
    {
        foreach (var group in _groups.Values)
        {
            group.Save();
        }
        foreach (var segment in _segments)
        {
            segment.Dispose();
        }
        Signal();
    }
}
