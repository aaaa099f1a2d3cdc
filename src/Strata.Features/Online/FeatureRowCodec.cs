using System.Buffers.Binary;
using System.Text;
using Strata.Contracts.Features;
using Strata.Features.Store;

namespace Strata.Features.Online;

/// <summary>The stored form of a <see cref="FeatureRow"/>'s times and values, compact and fast to decode (an embedding
/// of 32 doubles is 32 x 9 bytes, read without parsing text):
/// <c>version(1) | event_ts(8) | created_ts(8) | per value: tag(1) [payload]</c>. Times are big-endian with the sign
/// bit flipped, so comparing the 16 bytes after the version as strings orders rows by (event, created) time; the Redis
/// write script relies on that.</summary>
public static class FeatureRowCodec
{
    public const byte Version = 1;
    public const int TimesLength = 16;
    private const byte Null = 0, Double = 1, Long = 2, String = 3, True = 4, False = 5;

    public static byte[] Encode(FeatureRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var size = 1 + TimesLength;
        foreach (var value in row.Values)
        {
            size += 1 + value switch
            {
                double or long => 8,
                string s => 4 + Encoding.UTF8.GetByteCount(s),
                _ => 0,
            };
        }
        var buffer = new byte[size];
        buffer[0] = Version;
        BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(1), Ordered(row.EventTs));
        BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(9), Ordered(row.CreatedTs));
        var at = 1 + TimesLength;
        foreach (var value in row.Values)
        {
            switch (value)
            {
                case null:
                    buffer[at++] = Null;
                    break;
                case double d:
                    buffer[at++] = Double;
                    BinaryPrimitives.WriteDoubleLittleEndian(buffer.AsSpan(at), d);
                    at += 8;
                    break;
                case long l:
                    buffer[at++] = Long;
                    BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(at), l);
                    at += 8;
                    break;
                case string s:
                    buffer[at++] = String;
                    var length = Encoding.UTF8.GetBytes(s, buffer.AsSpan(at + 4));
                    BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(at), length);
                    at += 4 + length;
                    break;
                case bool b:
                    buffer[at++] = b ? True : False;
                    break;
                default:
                    throw new ArgumentException($"unsupported value type {value.GetType().Name}", nameof(row));
            }
        }
        return buffer;
    }

    public static FeatureRow Decode(string entityKey, ReadOnlySpan<byte> payload, IReadOnlyList<FeatureField> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (payload.Length < 1 + TimesLength || payload[0] != Version)
        {
            throw new InvalidDataException($"stored feature row of '{entityKey}' is not in format {Version}");
        }
        var eventTs = Unordered(BinaryPrimitives.ReadUInt64BigEndian(payload[1..]));
        var createdTs = Unordered(BinaryPrimitives.ReadUInt64BigEndian(payload[9..]));
        var values = new object?[columns.Count];
        var at = 1 + TimesLength;
        for (var i = 0; i < values.Length; i++)
        {
            if (at >= payload.Length)
            {
                throw new InvalidDataException($"stored feature row of '{entityKey}' has {i} values, its view {columns.Count}");
            }
            switch (payload[at++])
            {
                case Null:
                    break;
                case Double:
                    values[i] = BinaryPrimitives.ReadDoubleLittleEndian(payload[at..]);
                    at += 8;
                    break;
                case Long:
                    values[i] = BinaryPrimitives.ReadInt64LittleEndian(payload[at..]);
                    at += 8;
                    break;
                case String:
                    var length = BinaryPrimitives.ReadInt32LittleEndian(payload[at..]);
                    values[i] = Encoding.UTF8.GetString(payload.Slice(at + 4, length));
                    at += 4 + length;
                    break;
                case True:
                    values[i] = true;
                    break;
                case False:
                    values[i] = false;
                    break;
                default:
                    throw new InvalidDataException($"stored value {i} of '{entityKey}' is malformed");
            }
        }
        return new FeatureRow(entityKey, eventTs, createdTs, values);
    }

    private static ulong Ordered(long value) => unchecked((ulong)value ^ 0x8000_0000_0000_0000UL);

    private static long Unordered(ulong value) => unchecked((long)(value ^ 0x8000_0000_0000_0000UL));
}
