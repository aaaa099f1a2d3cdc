using System.Buffers.Binary;
using System.Text;
using Strata.Events.Transport;

namespace Strata.Events.Redis;

/// <summary>A message as one stream field: <c>[u16 id length][u16 key length][u16 target length][id][key][target][body]</c>
/// (UTF-8; target length 0 = none). One field instead of four makes every XADD and XREADGROUP cheaper for Redis.</summary>
internal static class PackedMessage
{
    private const int HeaderSize = 6;

    public static byte[] Pack(OutgoingMessage message)
    {
        var id = Encoding.UTF8.GetByteCount(message.Id);
        var key = Encoding.UTF8.GetByteCount(message.Key);
        var target = message.TargetGroup is null ? 0 : Encoding.UTF8.GetByteCount(message.TargetGroup);
        var packed = new byte[HeaderSize + id + key + target + message.Body.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(packed, checked((ushort)id));
        BinaryPrimitives.WriteUInt16LittleEndian(packed.AsSpan(2), checked((ushort)key));
        BinaryPrimitives.WriteUInt16LittleEndian(packed.AsSpan(4), checked((ushort)target));
        var at = HeaderSize;
        at += Encoding.UTF8.GetBytes(message.Id, packed.AsSpan(at));
        at += Encoding.UTF8.GetBytes(message.Key, packed.AsSpan(at));
        if (message.TargetGroup is not null)
        {
            at += Encoding.UTF8.GetBytes(message.TargetGroup, packed.AsSpan(at));
        }
        message.Body.Span.CopyTo(packed.AsSpan(at));
        return packed;
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
