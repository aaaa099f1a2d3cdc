using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Strata.Contracts.Features;

namespace Strata.Serving.Protocols;

/// <summary>Reads an Open Inference Protocol <c>infer</c> request against a model's inputs: every declared input once,
/// each with a shape of <c>[N]</c> or <c>[N, 1]</c> whose element count matches its <c>data</c> (flat or nested,
/// row-major), numeric datatypes only (INT32, INT64, FP32, FP64; integers must be integral and in range), the same N for
/// all inputs. Every rejection is a 400 naming the input.</summary>
public static class InferenceRequestReader
{
    public const int MaxRows = 10_000;
    private static readonly string[] NumericTypes = ["FP64", "FP32", "INT64", "INT32"];
    private static readonly string[] KnownTypes = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"];

    public static InferenceBatch Read(ReadOnlySequence<byte> body, IReadOnlyList<FeatureField> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
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
            var columns = new double[inputs.Count][];
            int? rows = null;
            foreach (var tensor in tensors.EnumerateArray())
            {
                var (index, values) = ReadTensor(tensor, inputs);
                if (columns[index] is not null)
                {
                    throw ProtocolException.BadRequest($"input '{inputs[index].Name}' is given twice");
                }
                if (rows is int n && values.Length != n)
                {
                    throw ProtocolException.BadRequest($"input '{inputs[index].Name}' has {values.Length} rows; other inputs have {n}");
                }
                rows = values.Length;
                columns[index] = values;
            }
            for (var i = 0; i < columns.Length; i++)
            {
                if (columns[i] is null)
                {
                    throw ProtocolException.BadRequest($"input '{inputs[i].Name}' is missing (the model takes {string.Join(", ", inputs.Select(x => x.Name))})");
                }
            }
            return new InferenceBatch(id, [.. Enumerable.Range(0, rows!.Value).Select(r => columns.Select(c => c[r]).ToArray())], ReadOutputs(root));
        }
    }

    private static (int Index, double[] Values) ReadTensor(JsonElement tensor, IReadOnlyList<FeatureField> inputs)
    {
        if (tensor.ValueKind != JsonValueKind.Object || !tensor.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
        {
            throw ProtocolException.BadRequest("each input must be an object with a string 'name'");
        }
        var name = nameElement.GetString()!;
        var index = -1;
        for (var i = 0; i < inputs.Count && index < 0; i++)
        {
            index = inputs[i].Name == name ? i : -1;
        }
        if (index < 0)
        {
            throw ProtocolException.BadRequest($"the model has no input '{name}' (inputs: {string.Join(", ", inputs.Select(x => x.Name))})");
        }
        if (!tensor.TryGetProperty("datatype", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            throw ProtocolException.BadRequest($"input '{name}' needs a string 'datatype'");
        }
        var datatype = typeElement.GetString()!;
        if (!KnownTypes.Contains(datatype))
        {
            throw ProtocolException.BadRequest($"input '{name}' has unknown datatype '{datatype}'");
        }
        if (!NumericTypes.Contains(datatype))
        {
            throw ProtocolException.BadRequest($"input '{name}' has datatype {datatype}; the model takes FP64 (FP32, INT32, INT64 are converted)");
        }
        var shape = ReadShape(tensor, name);
        if (!tensor.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw ProtocolException.BadRequest($"input '{name}' needs a 'data' array");
        }
        var values = new List<double>();
        Flatten(data, name, datatype, values, 0);
        var expected = shape[0] * (shape.Length == 2 ? shape[1] : 1);
        if (values.Count != expected)
        {
            throw ProtocolException.BadRequest($"input '{name}' has shape [{string.Join(", ", shape)}] ({expected} elements) but {values.Count} data elements");
        }
        return (index, [.. values]);
    }

    private static long[] ReadShape(JsonElement tensor, string name)
    {
        if (!tensor.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw ProtocolException.BadRequest($"input '{name}' needs a 'shape' array");
        }
        var shape = shapeElement.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Number && d.TryGetInt64(out var v) && v >= 0
            ? v
            : throw ProtocolException.BadRequest($"input '{name}' has a shape dimension that is not a non-negative integer")).ToArray();
        if (shape.Length is < 1 or > 2 || (shape.Length == 2 && shape[1] != 1))
        {
            throw ProtocolException.BadRequest($"input '{name}' has shape [{string.Join(", ", shape)}]; the model takes [N] or [N, 1]");
        }
        if (shape[0] is < 1 or > MaxRows)
        {
            throw ProtocolException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"input '{name}' has {shape[0]} rows; between 1 and {MaxRows} are accepted"));
        }
        return shape;
    }

    private static void Flatten(JsonElement element, string name, string datatype, List<double> values, int depth)
    {
        foreach (var item in element.EnumerateArray())
        {
            if (values.Count > MaxRows)
            {
                throw ProtocolException.BadRequest($"input '{name}' has more than {MaxRows} elements");
            }
            if (item.ValueKind == JsonValueKind.Array && depth < 2)
            {
                Flatten(item, name, datatype, values, depth + 1);
                continue;
            }
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out var value) || !double.IsFinite(value))
            {
                throw ProtocolException.BadRequest($"input '{name}' ({datatype}) has an element that is not a finite number: {item.GetRawText()}");
            }
            var integral = datatype is "INT32" or "INT64";
            if (integral && (value != Math.Floor(value) || (datatype == "INT32" && value is < int.MinValue or > int.MaxValue)))
            {
                throw ProtocolException.BadRequest($"input '{name}' ({datatype}) has an element that is not a {datatype}: {item.GetRawText()}");
            }
            values.Add(datatype == "FP32" ? (float)value : value);
        }
    }

    private static List<string> ReadOutputs(JsonElement root)
    {
        if (!root.TryGetProperty("outputs", out var outputs))
        {
            return [ModelSignature.Output];
        }
        if (outputs.ValueKind != JsonValueKind.Array)
        {
            throw ProtocolException.BadRequest("'outputs' must be an array");
        }
        var names = outputs.EnumerateArray().Select(o => o.ValueKind == JsonValueKind.Object && o.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
            ? n.GetString()!
            : throw ProtocolException.BadRequest("each requested output must be an object with a string 'name'")).ToList();
        foreach (var name in names.Where(n => n != ModelSignature.Output))
        {
            throw ProtocolException.BadRequest($"the model has no output '{name}' (outputs: {ModelSignature.Output})");
        }
        return names.Count == 0 ? [ModelSignature.Output] : [.. names.Distinct()];
    }
}
