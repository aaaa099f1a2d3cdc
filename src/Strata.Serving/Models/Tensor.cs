namespace Strata.Serving.Models;

/// <summary>A tensor with its data flat in row-major order, held in the CLR array type of its datatype
/// (<see cref="TensorDatatype.ClrType"/>): <c>float[]</c> for FP32, <c>string[]</c> for BYTES, and so on.</summary>
public sealed record Tensor(string Name, string Datatype, long[] Shape, Array Data)
{
    /// <summary>The first dimension (the batch), or 1 for a scalar.</summary>
    public long Rows => Shape.Length == 0 ? 1 : Shape[0];

    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n = checked(n * d);
        }
        return n;
    }

    /// <summary>Rows <paramref name="start"/>..<paramref name="start"/>+<paramref name="count"/> of this tensor (a copy).</summary>
    public Tensor SliceRows(long start, long count)
    {
        var perRow = Shape.Length <= 1 ? 1 : ElementCount(Shape.AsSpan(1));
        var data = Array.CreateInstance(Data.GetType().GetElementType()!, checked((int)(count * perRow)));
        Array.Copy(Data, start * perRow, data, 0, data.Length);
        var shape = (long[])Shape.Clone();
        if (shape.Length > 0)
        {
            shape[0] = count;
        }
        return this with { Shape = shape, Data = data };
    }

    /// <summary>Stacks tensors of the same name, datatype and row shape along the first dimension.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 1)
        {
            return parts[0];
        }
        var first = parts[0];
        var total = 0;
        long rows = 0;
        foreach (var p in parts)
        {
            total += p.Data.Length;
            rows += p.Rows;
        }
        var data = Array.CreateInstance(first.Data.GetType().GetElementType()!, total);
        var offset = 0;
        foreach (var p in parts)
        {
            Array.Copy(p.Data, 0, data, offset, p.Data.Length);
            offset += p.Data.Length;
        }
        var shape = (long[])first.Shape.Clone();
        shape[0] = rows;
        return first with { Shape = shape, Data = data };
    }
}

/// <summary>The Open Inference Protocol's tensor datatypes and the CLR element type each is held in.</summary>
public static class TensorDatatype
{
    public const string Bool = "BOOL";
    public const string U8 = "UINT8";
    public const string U16 = "UINT16";
    public const string U32 = "UINT32";
    public const string U64 = "UINT64";
    public const string I8 = "INT8";
    public const string I16 = "INT16";
    public const string I32 = "INT32";
    public const string I64 = "INT64";
    public const string Fp16 = "FP16";
    public const string Fp32 = "FP32";
    public const string Fp64 = "FP64";
    public const string Bytes = "BYTES";

    /// <summary>Every datatype the protocol defines.</summary>
    public static IReadOnlyList<string> All { get; } = [Bool, U8, U16, U32, U64, I8, I16, I32, I64, Fp16, Fp32, Fp64, Bytes];

    /// <summary>The CLR element type Strata holds a datatype in; null for one it does not handle (FP16).</summary>
    public static Type? ClrType(string datatype) => datatype switch
    {
        Bool => typeof(bool),
        U8 => typeof(byte),
        U16 => typeof(ushort),
        U32 => typeof(uint),
        U64 => typeof(ulong),
        I8 => typeof(sbyte),
        I16 => typeof(short),
        I32 => typeof(int),
        I64 => typeof(long),
        Fp32 => typeof(float),
        Fp64 => typeof(double),
        Bytes => typeof(string),
        _ => null,
    };

    public static bool IsNumeric(string datatype) => datatype is not (Bool or Bytes) && ClrType(datatype) is not null;

    /// <summary>A numeric or BOOL tensor's elements as doubles (BOOL is 0 or 1).</summary>
    public static double[] ToDoubles(Array data) => data switch
    {
        double[] d => d,
        float[] f => Array.ConvertAll(f, x => (double)x),
        long[] l => Array.ConvertAll(l, x => (double)x),
        int[] i => Array.ConvertAll(i, x => (double)x),
        short[] s => Array.ConvertAll(s, x => (double)x),
        sbyte[] s => Array.ConvertAll(s, x => (double)x),
        ulong[] u => Array.ConvertAll(u, x => (double)x),
        uint[] u => Array.ConvertAll(u, x => (double)x),
        ushort[] u => Array.ConvertAll(u, x => (double)x),
        byte[] b => Array.ConvertAll(b, x => (double)x),
        bool[] b => Array.ConvertAll(b, x => x ? 1.0 : 0.0),
        _ => throw new ArgumentException($"{data.GetType().Name} is not numeric", nameof(data)),
    };
}
