using System.Buffers;
using System.Text;
using System.Text.Json;
using Strata.Contracts.Errors;

namespace Strata.Contracts.Features;

/// <summary>Reads one JSON object of named numeric inputs (e.g. <c>{"age": 35, "income": 50000}</c>) into a vector in the
/// order of the view's inputs, without allocating a DOM. Every rejection names the field: not JSON, not an object,
/// a missing input, or an input that is not a finite number. Properties the view does not take are ignored.</summary>
public static class InputRowReader
{
    public static double[] Read(ReadOnlySequence<byte> json, IReadOnlyList<FeatureField> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var values = new double[inputs.Count];
        Span<bool> seen = inputs.Count <= 64 ? stackalloc bool[inputs.Count] : new bool[inputs.Count];
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InputValidationException("body", "must be a JSON object of named inputs");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var index = IndexOf(ref reader, inputs);
                reader.Read();
                if (index < 0)
                {
                    reader.Skip();
                    continue;
                }
                var field = inputs[index].Name;
                if (reader.TokenType != JsonTokenType.Number)
                {
                    throw new InputValidationException(field, $"must be a number, got {Describe(reader.TokenType)}");
                }
                if (!reader.TryGetDouble(out var value) || !double.IsFinite(value))
                {
                    throw new InputValidationException(field, "must be a finite number");
                }
                values[index] = value;
                seen[index] = true;
            }
            if (reader.TokenType != JsonTokenType.EndObject)
            {
                throw new InputValidationException("body", "must be a JSON object of named inputs");
            }
            if (reader.Read())
            {
                throw new InputValidationException("body", "has content after the JSON object");
            }
        }
        catch (JsonException e)
        {
            throw new InputValidationException("body", $"is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine})");
        }
        for (var i = 0; i < seen.Length; i++)
        {
            if (!seen[i])
            {
                throw new InputValidationException(inputs[i].Name, "is required");
            }
        }
        return values;
    }

    public static double[] Read(ReadOnlySpan<byte> json, IReadOnlyList<FeatureField> inputs) =>
        Read(new ReadOnlySequence<byte>(json.ToArray()), inputs);

    private static int IndexOf(ref Utf8JsonReader reader, IReadOnlyList<FeatureField> inputs)
    {
        for (var i = 0; i < inputs.Count; i++)
        {
            if (reader.ValueTextEquals(inputs[i].Name))
            {
                return i;
            }
        }
        return -1;
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => token.ToString(),
    };

    /// <summary>UTF-8 text for tests and callers holding a string.</summary>
    public static double[] Read(string json, IReadOnlyList<FeatureField> inputs) => Read(Encoding.UTF8.GetBytes(json ?? string.Empty), inputs);
}
