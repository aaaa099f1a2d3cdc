using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Contracts.Features;

/// <summary>Reads <see cref="FeatureColumns"/> value by value into compact CLR values: an integer as a boxed
/// <see cref="long"/>, another finite number as a <see cref="double"/>, a string, a bool (one shared box each), null.
/// Anything else (an array, an object, a number beyond a double) stays a <see cref="JsonElement"/>, so the checks
/// downstream refuse it naming the row as before. A 46 MB push of a million rows took RSS from 0.4 to 1.6 GB read as
/// JsonElements (issue 24); values are now a few times the size of their JSON text.</summary>
public sealed class FeatureColumnsJsonConverter : JsonConverter<FeatureColumns>
{
    private static readonly object True = true;
    private static readonly object False = false;

    /// <summary>One shared box for each small whole number (ages, counts, codes): a column of them costs a slot a value.</summary>
    private static readonly object[] SmallIntegers = [.. Enumerable.Range(0, 1024).Select(i => (object)(long)i)];

    public override FeatureColumns Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("expected an object of columns: name -> array of values");
        }
        var columns = new FeatureColumns();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                // Not an array: refused downstream, naming the column (FeatureValues.RowCount: "{field}.{name}: must be an array").
                reader.Skip();
                columns[name] = null!;
                continue;
            }
            var values = new List<object?>();
            byte[]? lastBytes = null;
            string? lastString = null;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                values.Add(reader.TokenType switch
                {
                    JsonTokenType.Null => null,
                    JsonTokenType.True => True,
                    JsonTokenType.False => False,
                    JsonTokenType.String => Repeated(ref reader, ref lastBytes, ref lastString),
                    JsonTokenType.Number when reader.TryGetInt64(out var l) => l is >= 0 and < 1024 ? SmallIntegers[l] : l,
                    JsonTokenType.Number when reader.TryGetDouble(out var d) && double.IsFinite(d) => d,
                    _ => JsonElement.ParseValue(ref reader),
                });
            }
            if (columns.ContainsKey(name))
            {
                throw new JsonException($"column '{name}' is given twice");
            }
            columns[name] = values;
        }
        if (reader.TokenType != JsonTokenType.EndObject)
        {
            throw new JsonException("expected an object of columns: name -> array of values");
        }
        return columns;
    }

    /// <summary>The string of the value; the previous value's string when the text is the same (a column of one
    /// timestamp, a country code, a category repeats its value row after row).</summary>
    private static string? Repeated(ref Utf8JsonReader reader, ref byte[]? lastBytes, ref string? lastString)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence)
        {
            return reader.GetString();
        }
        var bytes = reader.ValueSpan;
        if (lastBytes is not null && bytes.SequenceEqual(lastBytes))
        {
            return lastString;
        }
        lastString = reader.GetString();
        lastBytes = bytes.Length <= 128 ? bytes.ToArray() : null;
        return lastString;
    }

    public override void Write(Utf8JsonWriter writer, FeatureColumns value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, values) in value)
        {
            writer.WritePropertyName(name);
            JsonSerializer.Serialize(writer, values, options);
        }
        writer.WriteEndObject();
    }
}
