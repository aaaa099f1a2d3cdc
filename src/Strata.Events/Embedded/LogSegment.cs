using Microsoft.Win32.SafeHandles;

namespace Strata.Events.Embedded;

/// <summary>One file of a topic's log, named after the offset of its first record; the positions of its records
/// are kept in memory (8 bytes per record) so any offset is one positional read away.</summary>
internal sealed class LogSegment : IDisposable
{
    private readonly List<long> _positions = [];

    public LogSegment(string path, long baseOffset, bool writable)
    {
        Path = path;
        BaseOffset = baseOffset;
        Handle = File.OpenHandle(path, writable ? FileMode.OpenOrCreate : FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read, FileShare.Read);
    }

    public string Path { get; }

    public long BaseOffset { get; }

    public SafeFileHandle Handle { get; private set; }

    public long Length { get; set; }

    public long LastTimeMicros { get; set; }

    public int Count => _positions.Count;

    public long NextOffset => BaseOffset + _positions.Count;

    public void Add(long position) => _positions.Add(position);

    public bool Contains(long offset) => offset >= BaseOffset && offset < NextOffset;

    public long PositionOf(long offset) => _positions[(int)(offset - BaseOffset)];

    public static string FileName(long baseOffset) => $"{baseOffset:D20}.log";

    public void Dispose() => Handle.Dispose();
}
