using System.Buffers;
using System.Text.Json;
using Strata.Contracts.Features;
using Strata.Features.Store;

namespace Strata.Features.Online;

/// <summary>The stored form of a <see cref="FeatureRow"/>'s times and values: a compact JSON array
/// <c>[event_ts, created_ts, v1, v2, ...]</c>, typed back by the view's columns when read.</summary>
public static class FeatureRowCodec
{
    public static byte[] Encode(FeatureRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var buffer = new ArrayBufferWriter<byte>(64 + row.Values.Length * 12);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(row.EventTs);
            writer.WriteNumberValue(row.CreatedTs);
            foreach (var value in row.Values)
            {
                switch (value)
                {
                    case null: writer.WriteNullValue(); break;
                    case double d: writer.WriteNumberValue(d); break;
                    case long l: writer.WriteNumberValue(l); break;
                    case string s: writer.WriteStringValue(s); break;
                    case bool b: writer.WriteBooleanValue(b); break;
                    default: throw new ArgumentException($"unsupported value type {value.GetType().Name}", nameof(row));
                }
            }
            writer.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }


    public static FeatureRow Decode(string entityKey, ReadOnlySpan<byte> payload, IReadOnlyList<FeatureField> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var reader = new Utf8JsonReader(payload);
        Expect(reader.Read() && reader.TokenType == JsonTokenType.StartArray);
        Expect(reader.Read());
        var eventTs = reader.GetInt64();
        Expect(reader.Read());
        var createdTs = reader.GetInt64();
        var values = new object?[columns.Count];
        for (var i = 0; i < values.Length; i++)
        {
            Expect(reader.Read());
            values[i] = reader.TokenType switch
            {
                JsonTokenType.Null => null,
                JsonTokenType.Number when columns[i].Type == FeatureTypes.Int64 => reader.GetInt64(),
                JsonTokenType.Number => reader.GetDouble(),
                JsonTokenType.String => reader.GetString(),
                JsonTokenType.True => true,
                JsonTokenType.False => false,
                _ => throw new InvalidDataException($"stored value {i} of '{entityKey}' is malformed"),
            };
        }
        return new FeatureRow(entityKey, eventTs, createdTs, values);
    }

    private static void Expect(bool ok)
    {
        if (!ok)
        {
            throw new InvalidDataException("a stored feature row is malformed");
        }
    }
}
