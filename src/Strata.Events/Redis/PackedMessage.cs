using System.Buffers.Binary;
using System.Text;
using Strata.Events.Transport;

namespace Strata.Events.Redis;

/// <summary>A message as one stream field: <c>[u16 id length][u16 key length][u16 target length][id][key][target][body]</c>
/// (UTF-8; target length 0 = none). One field instead of four makes every XADD and XREADGROUP cheaper for Redis.</summary>
internal static class PackedMessage
{
    private const int HeaderSize = 6;

    /// <summary>The packed size of <paramref name="message"/>.</summary>
    public static int Size(OutgoingMessage message) =>
        HeaderSize + Encoding.UTF8.GetByteCount(message.Id) + Encoding.UTF8.GetByteCount(message.Key)
        + (message.TargetGroup is null ? 0 : Encoding.UTF8.GetByteCount(message.TargetGroup)) + message.Body.Length;

    /// <summary>Packs <paramref name="message"/> at the start of <paramref name="into"/> (at least <see cref="Size"/>
    /// bytes); returns the bytes written.</summary>
    public static int Pack(OutgoingMessage message, Span<byte> into)
    {
        var at = HeaderSize;
        var id = Encoding.UTF8.GetBytes(message.Id, into[at..]);
        at += id;
        var key = Encoding.UTF8.GetBytes(message.Key, into[at..]);
        at += key;
        var target = message.TargetGroup is null ? 0 : Encoding.UTF8.GetBytes(message.TargetGroup, into[at..]);
        at += target;
        BinaryPrimitives.WriteUInt16LittleEndian(into, checked((ushort)id));
        BinaryPrimitives.WriteUInt16LittleEndian(into[2..], checked((ushort)key));
        BinaryPrimitives.WriteUInt16LittleEndian(into[4..], checked((ushort)target));
        message.Body.Span.CopyTo(into[at..]);
        return at + message.Body.Length;
    }

    /// <summary>The parts of a packed message; the body is a slice of <paramref name="packed"/>.</summary>
    public static (string Id, string Key, string? Target, ReadOnlyMemory<byte> Body) Unpack(byte[] packed)
    {
        if (packed.Length < HeaderSize)
        {
            throw new InvalidDataException("a stream entry too short to be a Strata message");
        }
        int id = BinaryPrimitives.ReadUInt16LittleEndian(packed);
        int key = BinaryPrimitives.ReadUInt16LittleEndian(packed.AsSpan(2));
        int target = BinaryPrimitives.ReadUInt16LittleEndian(packed.AsSpan(4));
        var body = HeaderSize + id + key + target;
        if (body > packed.Length)
        {
            throw new InvalidDataException("a stream entry whose lengths do not add up");
        }
        return (Encoding.UTF8.GetString(packed, HeaderSize, id), Encoding.UTF8.GetString(packed, HeaderSize + id, key),
            target == 0 ? null : Encoding.UTF8.GetString(packed, HeaderSize + id + key, target), packed.AsMemory(body));
    }
}
