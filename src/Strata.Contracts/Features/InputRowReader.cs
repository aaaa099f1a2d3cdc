using System.Buffers;
using System.Text;
using System.Text.Json;
using Strata.Contracts.Errors;

namespace Strata.Contracts.Features;

/// <summary>Reads JSON objects of named numeric inputs (e.g. <c>{"age": 35, "income": 50000}</c>) into vectors in the
/// order of the view's inputs, without allocating a DOM: one object, or (for batches) an array of them. Every rejection
/// names the field (<c>age</c>, or <c>[3].age</c> in a batch): not JSON, not an object, a missing input, or an input that
/// is not a finite number. Properties the view does not take are ignored.</summary>
public static class InputRowReader
{
    /// <summary>Largest batch accepted in one request.</summary>
    public const int MaxRows = 10_000;

    /// <summary>Reads exactly one object.</summary>
    public static double[] Read(ReadOnlySequence<byte> json, IReadOnlyList<FeatureField> inputs)
    {
        var rows = Parse(json, inputs, allowBatch: false);
        return rows[0];
    }

    /// <summary>Reads one object (a batch of one) or an array of objects.</summary>
    public static List<double[]> ReadBatch(ReadOnlySequence<byte> json, IReadOnlyList<FeatureField> inputs, out bool isBatch)
    {
        var rows = Parse(json, inputs, allowBatch: true);
        isBatch = rows.IsBatch;
        return rows;
    }

    public static double[] Read(string json, IReadOnlyList<FeatureField> inputs) =>
        Read(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json ?? string.Empty)), inputs);

    private sealed class Rows : List<double[]>
    {
        public bool IsBatch { get; init; }
    }

    private static Rows Parse(ReadOnlySequence<byte> json, IReadOnlyList<FeatureField> inputs, bool allowBatch)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        try
        {
            if (!reader.Read())
            {
                throw new InputValidationException("body", "must be a JSON object of named inputs");
            }
            Rows rows;
            if (reader.TokenType == JsonTokenType.StartArray && allowBatch)
            {
                rows = new Rows { IsBatch = true };
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (rows.Count == MaxRows)
                    {
                        throw new InputValidationException("body", $"a batch holds at most {MaxRows} rows");
                    }
                    rows.Add(ReadObject(ref reader, inputs, $"[{rows.Count}]"));
                }
                if (rows.Count == 0)
                {
                    throw new InputValidationException("body", "a batch needs at least one row");
                }
            }
            else
            {
                rows = [ReadObject(ref reader, inputs, prefix: null)];
            }
            if (reader.Read())
            {
                throw new InputValidationException("body", "has content after the JSON value");
            }
            return rows;
        }
        catch (JsonException e)
        {
            throw new InputValidationException("body", $"is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine})");
        }
    }

    private static double[] ReadObject(ref Utf8JsonReader reader, IReadOnlyList<FeatureField> inputs, string? prefix)
    {
        string Field(string name) => prefix is null ? name : $"{prefix}.{name}";
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InputValidationException(prefix ?? "body", "must be a JSON object of named inputs");
        }
        var values = new double[inputs.Count];
        Span<bool> seen = inputs.Count <= 64 ? stackalloc bool[inputs.Count] : new bool[inputs.Count];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var index = IndexOf(ref reader, inputs);
            reader.Read();
            if (index < 0)
            {
                reader.Skip();
                continue;
            }
            var field = Field(inputs[index].Name);
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
            throw new InputValidationException(prefix ?? "body", "must be a JSON object of named inputs");
        }
        for (var i = 0; i < seen.Length; i++)
        {
            if (!seen[i])
            {
                throw new InputValidationException(Field(inputs[i].Name), "is required");
            }
        }
        return values;
    }

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
}
