using System.Globalization;
using System.Text.Json;
using Strata.Serving.Models;

namespace Strata.Serving.Protocols;

/// <summary>Tensor data in the protocols' JSON: reading (flat or nested arrays, row-major, each element checked against
/// the datatype: BOOL is true/false, BYTES a string, integers integral and in range, floats finite) and writing.</summary>
public static class JsonTensors
{
    /// <summary>Most elements one request may carry across its tensors.</summary>
    public const int MaxElements = 1 << 22;

    /// <summary>Appends the leaves of a JSON value (itself when not an array) in row-major order.</summary>
    public static void Flatten(JsonElement value, List<JsonElement> leaves, string name)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        if (value.ValueKind != JsonValueKind.Array)
        {
            leaves.Add(value);
            return;
        }
        foreach (var item in value.EnumerateArray())
        {
            if (leaves.Count >= MaxElements)
            {
                throw ProtocolException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"input '{name}' has more than {MaxElements} elements"));
            }
            Flatten(item, leaves, name);
        }
    }

    /// <summary>The leaves as the CLR array of <paramref name="datatype"/>; a 400 naming the input for an element that is not one.</summary>
    public static Array ToArray(List<JsonElement> leaves, string datatype, string name)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        return datatype switch
        {
            TensorDatatype.Bool => Convert(leaves, datatype, name, static e => (e.ValueKind is JsonValueKind.True or JsonValueKind.False, e.ValueKind == JsonValueKind.True)),
            TensorDatatype.Bytes => Convert(leaves, datatype, name, static e => (e.ValueKind == JsonValueKind.String, e.ValueKind == JsonValueKind.String ? e.GetString()! : "")),
            TensorDatatype.Fp64 => Convert(leaves, datatype, name, static e => Real(e, double.MaxValue) is double d ? (true, d) : (false, 0d)),
            TensorDatatype.Fp32 => Convert(leaves, datatype, name, static e => Real(e, float.MaxValue) is double d ? (true, (float)d) : (false, 0f)),
            TensorDatatype.I64 => Convert(leaves, datatype, name, static e => Integer(e, long.MinValue, long.MaxValue) is long v ? (true, v) : (false, 0L)),
            TensorDatatype.I32 => Convert(leaves, datatype, name, static e => Integer(e, int.MinValue, int.MaxValue) is long v ? (true, (int)v) : (false, 0)),
            TensorDatatype.I16 => Convert(leaves, datatype, name, static e => Integer(e, short.MinValue, short.MaxValue) is long v ? (true, (short)v) : (false, (short)0)),
            TensorDatatype.I8 => Convert(leaves, datatype, name, static e => Integer(e, sbyte.MinValue, sbyte.MaxValue) is long v ? (true, (sbyte)v) : (false, (sbyte)0)),
            TensorDatatype.U64 => Convert(leaves, datatype, name, static e => e.ValueKind == JsonValueKind.Number && e.TryGetUInt64(out var v) ? (true, v) : (false, 0UL)),
            TensorDatatype.U32 => Convert(leaves, datatype, name, static e => Integer(e, 0, uint.MaxValue) is long v ? (true, (uint)v) : (false, 0U)),
            TensorDatatype.U16 => Convert(leaves, datatype, name, static e => Integer(e, 0, ushort.MaxValue) is long v ? (true, (ushort)v) : (false, (ushort)0)),
            TensorDatatype.U8 => Convert(leaves, datatype, name, static e => Integer(e, 0, byte.MaxValue) is long v ? (true, (byte)v) : (false, (byte)0)),
            _ => throw ProtocolException.BadRequest($"input '{name}' has datatype {datatype}, which Strata does not take (supported: {string.Join(", ", TensorDatatype.All.Where(t => TensorDatatype.ClrType(t) is not null))})"),
        };
    }

    private static T[] Convert<T>(List<JsonElement> leaves, string datatype, string name, Func<JsonElement, (bool Ok, T Value)> parse)
    {
        var values = new T[leaves.Count];
        for (var i = 0; i < values.Length; i++)
        {
            var (ok, value) = parse(leaves[i]);
            if (!ok)
            {
                var what = datatype switch
                {
                    TensorDatatype.Bool => "not true or false",
                    TensorDatatype.Bytes => "not a string",
                    TensorDatatype.Fp32 or TensorDatatype.Fp64 => "not a finite number",
                    _ => $"not a {datatype}",
                };
                throw ProtocolException.BadRequest(string.Create(CultureInfo.InvariantCulture,
                    $"input '{name}' ({datatype}) has an element that is {what}: {Shorten(leaves[i].GetRawText())} (element {i})"));
            }
            values[i] = value;
        }
        return values;
    }

    private static double? Real(JsonElement e, double max) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var d) && double.IsFinite(d) && Math.Abs(d) <= max ? d : null;

    private static long? Integer(JsonElement e, long min, long max)
    {
        if (e.ValueKind != JsonValueKind.Number)
        {
            return null;
        }
        if (e.TryGetInt64(out var v))
        {
            return v >= min && v <= max ? v : null;
        }
        // 3.0 is an integer written as a real; 3.5 is not.
        return e.TryGetDouble(out var d) && d == Math.Floor(d) && d >= min && d <= max ? (long)d : null;
    }

    private static string Shorten(string raw) => raw.Length <= 40 ? raw : raw[..40] + "...";

    /// <summary>Writes a tensor's data as a flat JSON array (a non-finite float, which JSON cannot carry, as null).</summary>
    public static void WriteData(Utf8JsonWriter writer, Array data)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(data);
        writer.WriteStartArray();
        for (var i = 0; i < data.Length; i++)
        {
            WriteElement(writer, data, i);
        }
        writer.WriteEndArray();
    }

    /// <summary>Writes row <paramref name="row"/> of a tensor: a single value when a row holds one element, else a flat array.</summary>
    public static void WriteRow(Utf8JsonWriter writer, Tensor tensor, long row)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(tensor);
        var perRow = tensor.Shape.Length <= 1 ? 1 : (int)Tensor.ElementCount(tensor.Shape.AsSpan(1));
        var start = checked((int)(row * perRow));
        if (perRow == 1)
        {
            WriteElement(writer, tensor.Data, start);
            return;
        }
        writer.WriteStartArray();
        for (var i = start; i < start + perRow; i++)
        {
            WriteElement(writer, tensor.Data, i);
        }
        writer.WriteEndArray();
    }

    private static void WriteElement(Utf8JsonWriter writer, Array data, int i)
    {
        switch (data)
        {
            case double[] d when double.IsFinite(d[i]): writer.WriteNumberValue(d[i]); break;
            case float[] f when float.IsFinite(f[i]): writer.WriteNumberValue(f[i]); break;
            case double[] or float[]: writer.WriteNullValue(); break;
            case long[] l: writer.WriteNumberValue(l[i]); break;
            case int[] n: writer.WriteNumberValue(n[i]); break;
            case short[] s: writer.WriteNumberValue(s[i]); break;
            case sbyte[] s: writer.WriteNumberValue(s[i]); break;
            case ulong[] u: writer.WriteNumberValue(u[i]); break;
            case uint[] u: writer.WriteNumberValue(u[i]); break;
            case ushort[] u: writer.WriteNumberValue(u[i]); break;
            case byte[] b: writer.WriteNumberValue(b[i]); break;
            case bool[] b: writer.WriteBooleanValue(b[i]); break;
            case string[] s: writer.WriteStringValue(s[i]); break;
            default: throw new ArgumentException($"{data.GetType().Name} is not a tensor element array", nameof(data));
        }
    }
}
