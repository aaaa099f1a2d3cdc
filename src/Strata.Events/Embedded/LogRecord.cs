using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Strata.Events.Embedded;

/// <summary>One message in a topic's log. On disk: <c>[u32 length][u32 crc32 of the rest][i64 offset][i64 time µs]
/// [u16 id][u16 key][u16 target][i32 body]</c> followed by those bytes (UTF-8 strings; target length 0 = none).
/// A torn or corrupt tail (length or crc wrong) marks where the log ends.</summary>
internal sealed record LogRecord(long Offset, long TimeMicros, string Id, string Key, string? TargetGroup, ReadOnlyMemory<byte> Body)
{
    public const int HeaderSize = 8;
    private const int FixedSize = 8 + 8 + 2 + 2 + 2 + 4;
    public const int MaxRecordSize = 16 * 1024 * 1024;

    public int Write(Span<byte> destination)
    {
        var payload = destination[HeaderSize..];
        BinaryPrimitives.WriteInt64LittleEndian(payload, Offset);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], TimeMicros);
        var at = FixedSize;
        var idLength = Encoding.UTF8.GetBytes(Id, payload[at..]);
        at += idLength;
        var keyLength = Encoding.UTF8.GetBytes(Key, payload[at..]);
        at += keyLength;
        var targetLength = TargetGroup is null ? 0 : Encoding.UTF8.GetBytes(TargetGroup, payload[at..]);
        at += targetLength;
        Body.Span.CopyTo(payload[at..]);
        at += Body.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(payload[16..], checked((ushort)idLength));
        BinaryPrimitives.WriteUInt16LittleEndian(payload[18..], checked((ushort)keyLength));
        BinaryPrimitives.WriteUInt16LittleEndian(payload[20..], checked((ushort)targetLength));
        BinaryPrimitives.WriteInt32LittleEndian(payload[22..], Body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)at);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Crc32.HashToUInt32(payload[..at]));
        return HeaderSize + at;
    }

    /// <summary>This record with its body pointing into <paramref name="stored"/>, where <see cref="Write"/> put it at
    /// <paramref name="start"/> (so the cache keeps one array per batch alive, not one per event).</summary>
    public LogRecord InBatch(ReadOnlyMemory<byte> stored, int start)
    {
        var payload = stored.Span[(start + HeaderSize)..];
        var at = HeaderSize + FixedSize + BinaryPrimitives.ReadUInt16LittleEndian(payload[16..]) + BinaryPrimitives.ReadUInt16LittleEndian(payload[18..])
            + BinaryPrimitives.ReadUInt16LittleEndian(payload[20..]);
        return this with { Body = stored.Slice(start + at, Body.Length) };
    }

    public int MaxSize => HeaderSize + FixedSize + Encoding.UTF8.GetMaxByteCount(Id.Length + Key.Length + (TargetGroup?.Length ?? 0)) + Body.Length;

    /// <summary>The payload length announced by a header, or -1 when it cannot be a record.</summary>
    public static int PayloadLength(ReadOnlySpan<byte> header)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        return length is < FixedSize or > MaxRecordSize ? -1 : (int)length;
    }

    /// <summary>Decodes a payload checked against the header's crc; null when it does not match.</summary>
    public static LogRecord? Read(ReadOnlySpan<byte> header, ReadOnlyMemory<byte> payload)
    {
        var span = payload.Span;
        if (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != Crc32.HashToUInt32(span))
        {
            return null;
        }
        int idLength = BinaryPrimitives.ReadUInt16LittleEndian(span[16..]);
        int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(span[18..]);
        int targetLength = BinaryPrimitives.ReadUInt16LittleEndian(span[20..]);
        var bodyLength = BinaryPrimitives.ReadInt32LittleEndian(span[22..]);
        if (FixedSize + idLength + keyLength + targetLength + bodyLength != span.Length)
        {
            return null;
        }
        var at = FixedSize;
        var id = Encoding.UTF8.GetString(span.Slice(at, idLength));
        at += idLength;
        var key = Encoding.UTF8.GetString(span.Slice(at, keyLength));
        at += keyLength;
        var target = targetLength == 0 ? null : Encoding.UTF8.GetString(span.Slice(at, targetLength));
        at += targetLength;
        return new LogRecord(BinaryPrimitives.ReadInt64LittleEndian(span), BinaryPrimitives.ReadInt64LittleEndian(span[8..]), id, key, target,
            payload.Slice(at, bodyLength));
    }
}
