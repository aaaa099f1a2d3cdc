using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Contracts;

/// <summary>Reads and writes lists of JSON scalars (<see cref="double"/>, <see cref="long"/>, <see cref="string"/>,
/// <see cref="bool"/>, null) without the per-value type lookup of <c>object</c> serialization: feature vectors are the
/// hot path of online serving (100 entities x 50 features is 5,000 values per response). Integral numbers read back as
/// <see cref="long"/>, others as <see cref="double"/>.</summary>
public sealed class ScalarListJsonConverter : JsonConverter<IReadOnlyList<object?>>
{
    public override IReadOnlyList<object?> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("expected an array of scalars");
        }
        var values = new List<object?>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            values.Add(reader.TokenType switch
            {
                JsonTokenType.Null => null,
                JsonTokenType.True => true,
                JsonTokenType.False => false,
                JsonTokenType.String => reader.GetString(),
                JsonTokenType.Number when reader.TryGetInt64(out var l) => l,
                JsonTokenType.Number => reader.GetDouble(),
                _ => throw new JsonException($"expected a scalar, got {reader.TokenType}"),
            });
        }
        return values;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<object?> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        foreach (var item in value)
        {
            switch (item)
            {
                case null: writer.WriteNullValue(); break;
                case double d when double.IsFinite(d): writer.WriteNumberValue(d); break;
                case long l: writer.WriteNumberValue(l); break;
                case string s: writer.WriteStringValue(s); break;
                case bool b: writer.WriteBooleanValue(b); break;
                case int i: writer.WriteNumberValue(i); break;
                case JsonElement e: e.WriteTo(writer); break;
                default: JsonSerializer.Serialize(writer, item, item.GetType(), options); break;
            }
        }
        writer.WriteEndArray();
    }
}
