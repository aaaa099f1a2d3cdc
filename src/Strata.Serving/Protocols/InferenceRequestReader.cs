using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Strata.Serving.Models;

namespace Strata.Serving.Protocols;

/// <summary>A decoded Open Inference Protocol <c>infer</c> request: its id (echoed back), its input tensors and the
/// outputs asked for (empty: all).</summary>
public sealed record InferenceRequest(string? Id, IReadOnlyList<Tensor> Inputs, IReadOnlyList<string> Outputs);

/// <summary>Reads an Open Inference Protocol <c>infer</c> request body: <c>inputs</c> (each with a string <c>name</c>,
/// a known <c>datatype</c>, a <c>shape</c> of non-negative integers and <c>data</c>, flat or nested, row-major, with as
/// many elements as the shape says), an optional string <c>id</c> and optional <c>outputs</c>. Whether the tensors fit
/// the model is the model's check (<see cref="ServableModel.Bind"/>). Every rejection is a 400 naming the problem.</summary>
public static class InferenceRequestReader
{
    /// <summary>Most rows (first dimension) one tensor may have.</summary>
    public const int MaxRows = 10_000;

    public static InferenceRequest Read(ReadOnlySequence<byte> body)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw ProtocolException.BadRequest($"request body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw ProtocolException.BadRequest("request body must be a JSON object with 'inputs'");
            }
            string? id = null;
            if (root.TryGetProperty("id", out var idElement))
            {
                id = idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : throw ProtocolException.BadRequest("'id' must be a string");
            }
            if (!root.TryGetProperty("inputs", out var tensors) || tensors.ValueKind != JsonValueKind.Array || tensors.GetArrayLength() == 0)
            {
                throw ProtocolException.BadRequest("'inputs' must be a non-empty array of tensors");
            }
            var inputs = new List<Tensor>(tensors.GetArrayLength());
            var leaves = new List<JsonElement>(16);
            var total = 0L;
            foreach (var tensor in tensors.EnumerateArray())
            {
                leaves.Clear();
                var input = ReadTensor(tensor, leaves);
                total += input.Data.Length;
                if (total > JsonTensors.MaxElements)
                {
                    throw ProtocolException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"the request carries more than {JsonTensors.MaxElements} elements"));
                }
                inputs.Add(input);
            }
            return new InferenceRequest(id, inputs, ReadOutputs(root));
        }
    }

    private static Tensor ReadTensor(JsonElement tensor, List<JsonElement> leaves)
    {
        if (tensor.ValueKind != JsonValueKind.Object || !tensor.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
        {
            throw ProtocolException.BadRequest("each input must be an object with a string 'name'");
        }
        var name = nameElement.GetString()!;
        if (!tensor.TryGetProperty("datatype", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            throw ProtocolException.BadRequest($"input '{name}' needs a string 'datatype'");
        }
        // The protocol's own string for a known datatype (no string allocated per request); the text only for the error.
        string? datatype = null;
        foreach (var known in TensorDatatype.All)
        {
            if (typeElement.ValueEquals(known))
            {
                datatype = known;
                break;
            }
        }
        if (datatype is null)
        {
            datatype = typeElement.GetString()!;
            throw ProtocolException.BadRequest($"input '{name}' has unknown datatype '{datatype}' (the protocol's: {string.Join(", ", TensorDatatype.All)})");
        }
        var shape = ReadShape(tensor, name);
        if (!tensor.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw ProtocolException.BadRequest($"input '{name}' needs a 'data' array");
        }
        JsonTensors.Flatten(data, leaves, name);
        var expected = Tensor.ElementCount(shape);
        if (leaves.Count != expected)
        {
            throw ProtocolException.BadRequest(string.Create(CultureInfo.InvariantCulture,
                $"input '{name}' has shape [{string.Join(", ", shape)}] ({expected} elements) but {leaves.Count} data elements"));
        }
        return new Tensor(name, datatype, shape, JsonTensors.ToArray(leaves, datatype, name));
    }

    private static long[] ReadShape(JsonElement tensor, string name)
    {
        if (!tensor.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw ProtocolException.BadRequest($"input '{name}' needs a 'shape' array");
        }
        if (shapeElement.GetArrayLength() > 8)
        {
            throw ProtocolException.BadRequest($"input '{name}' has more than 8 dimensions");
        }
        var shape = new long[shapeElement.GetArrayLength()];
        var at = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            shape[at++] = d.ValueKind == JsonValueKind.Number && d.TryGetInt64(out var v) && v is >= 0 and <= JsonTensors.MaxElements
                ? v
                : throw ProtocolException.BadRequest($"input '{name}' has a shape dimension that is not a non-negative integer (at most {JsonTensors.MaxElements})");
        }
        if (shape.Length > 0 && shape[0] is < 1 or > MaxRows)
        {
            throw ProtocolException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"input '{name}' has {shape[0]} rows; between 1 and {MaxRows} are accepted"));
        }
        try
        {
            if (Tensor.ElementCount(shape) > JsonTensors.MaxElements)
            {
                throw new OverflowException();
            }
        }
        catch (OverflowException)
        {
            throw ProtocolException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"input '{name}' has shape [{string.Join(", ", shape)}]: more than {JsonTensors.MaxElements} elements"));
        }
        return shape;
    }

    private static List<string> ReadOutputs(JsonElement root)
    {
        if (!root.TryGetProperty("outputs", out var outputs))
        {
            return [];
        }
        if (outputs.ValueKind != JsonValueKind.Array)
        {
            throw ProtocolException.BadRequest("'outputs' must be an array");
        }
        var names = outputs.EnumerateArray().Select(o => o.ValueKind == JsonValueKind.Object && o.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
            ? n.GetString()!
            : throw ProtocolException.BadRequest("each requested output must be an object with a string 'name'")).ToList();
        return [.. names.Distinct(StringComparer.Ordinal)];
    }
}
