using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Registry.Tracking;

// MLflow's clients write protobuf JSON: int64 fields may come as strings, ids as numbers, doubles as "NaN" or "inf",
// a repeated string field as one string. These converters read those forms into typed request records; a value of any
// other kind is a JsonException, which the API answers as INVALID_PARAMETER_VALUE naming the field.

/// <summary>An id (experiment, run): a string, or a number written as its digits.</summary>
public sealed class MlflowIdConverter : JsonConverter<string>
{
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString()!,
        JsonTokenType.Number => Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan),
        _ => throw new JsonException("a string id is expected"),
    };

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>A metric value: a number, or a string holding one, <c>NaN</c>, <c>Infinity</c>, <c>inf</c> or their negatives.</summary>
public sealed class MlflowDoubleConverter : JsonConverter<double?>
{
    public override double? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var number))
        {
            return number;
        }
        if (reader.TokenType == JsonTokenType.String)
        {
            var text = reader.GetString();
            switch (text)
            {
                case "NaN":
                    return double.NaN;
                case "Infinity" or "inf":
                    return double.PositiveInfinity;
                case "-Infinity" or "-inf":
                    return double.NegativeInfinity;
            }
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number))
            {
                return number;
            }
        }
        throw new JsonException("a number is expected");
    }

    public override void Write(Utf8JsonWriter writer, double? value, JsonSerializerOptions options)
    {
        if (value is { } number)
        {
            writer.WriteNumberValue(number);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>A repeated string field: a list of strings (numbers taken as their digits) or a single string.</summary>
public sealed class MlflowStringsConverter : JsonConverter<IReadOnlyList<string>>
{
    private static readonly MlflowIdConverter Item = new();

    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return [reader.GetString()!];
        }
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("a list of strings is expected");
        }
        var values = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            values.Add(Item.Read(ref reader, typeof(string), options));
        }
        return values;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var item in value)
        {
            writer.WriteStringValue(item);
        }
        writer.WriteEndArray();
    }
}

/// <summary>A bool field: <c>true</c>/<c>false</c>, or the same as a string (some clients send form-style values).</summary>
public sealed class MlflowBoolConverter : JsonConverter<bool?>
{
    public override bool? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.Null => null,
        JsonTokenType.String when bool.TryParse(reader.GetString(), out var value) => value,
        _ => throw new JsonException("true or false is expected"),
    };

    public override void Write(Utf8JsonWriter writer, bool? value, JsonSerializerOptions options)
    {
        if (value is { } b)
        {
            writer.WriteBooleanValue(b);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
