using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Strata.Contracts.Registry;

namespace Strata.Serving.Models;

/// <summary>An ONNX model version (trained anywhere: scikit-learn, PyTorch, or exported from ML.NET) run by ONNX Runtime.
/// Its signature is the graph's tensor inputs and outputs as the graph declares them (symbolic dimensions are -1);
/// requests must match their datatypes exactly. Non-tensor outputs (maps, sequences) are not served. One session serves
/// all requests (ONNX Runtime's <c>Run</c> is thread-safe), one intra-op thread per request so concurrent requests do
/// not spin against each other on a small machine; the session is released by its finalizer once no request holds the
/// model after a swap.</summary>
public sealed class OnnxModel : ServableModel
{
    public const string PlatformName = "onnxruntime_onnx";
    /// <summary>The most elements one inference may return across its outputs.</summary>
    public long MaxOutputElements { get; init; } = 4L << 20;

    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private static readonly RunOptions RunDefaults = new();

    private OnnxModel(ModelVersion version, InferenceSession session, DateTimeOffset loadedAt) : base(version, loadedAt)
    {
        _session = session;
        Inputs = [.. session.InputMetadata.Select(kv => Describe(kv.Key, kv.Value, "input"))];
        Outputs = [.. session.OutputMetadata.Where(kv => kv.Value.IsTensor).Select(kv => Describe(kv.Key, kv.Value, "output"))];
        if (Outputs.Count == 0)
        {
            throw new InvalidDataException($"model {version.Model} v{version.Version}: the ONNX graph has no tensor output");
        }
        _inputNames = [.. Inputs.Select(i => i.Name)];
    }

    public override string Platform => PlatformName;

    public override IReadOnlyList<TensorMetadata> Inputs { get; }

    public override IReadOnlyList<TensorMetadata> Outputs { get; }

    /// <summary>Opens the graph and warms it with one row of zeros (when every non-batch dimension is fixed).</summary>
    /// <param name="maxOutputElements">The most elements one inference may return across its outputs (see
    /// <c>ServingOptions.MaxOutputElements</c>).</param>
    public static OnnxModel Load(ModelVersion version, byte[] artifact, DateTimeOffset now, long maxOutputElements = 4L << 20)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(artifact);
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        InferenceSession session;
        try
        {
            session = new InferenceSession(artifact, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"model {version.Model} v{version.Version} is not a loadable ONNX graph: {e.Message}", e);
        }
        try
        {
            var model = new OnnxModel(version, session, now) { MaxOutputElements = maxOutputElements };
            if (model.Inputs.All(i => i.RowElements is not null))
            {
                model.Infer([.. model.Inputs.Select(Zeros)], []);
            }
            return model;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public override Tensor[] Infer(Tensor[] inputs, IReadOnlyList<string> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        var names = outputs.Count == 0 ? [.. Outputs.Select(o => o.Name)] : outputs;
        var values = new OrtValue[inputs.Length];
        try
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                values[i] = ToOrt(inputs[i]);
            }
            using var results = _session.Run(RunDefaults, _inputNames, values, names);
            var total = 0L;
            foreach (var (name, value) in names.Zip(results))
            {
                total += value.GetTensorTypeAndShape().ElementCount;
                if (total > MaxOutputElements)
                {
                    throw new Strata.Contracts.Errors.InputValidationException($"outputs.{name}", string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"the model's outputs reach {total:N0} elements at '{name}' ({string.Join('x', value.GetTensorTypeAndShape().Shape)}), more than the {MaxOutputElements:N0} one request may return (Strata:Serving:MaxOutputElements)"));
                }
            }
            var tensors = new Tensor[names.Count];
            var r = 0;
            foreach (var (name, value) in names.Zip(results))
            {
                tensors[r++] = FromOrt(name, value);
            }
            return tensors;
        }
        catch (OnnxRuntimeException e)
        {
            // What the graph rejects at run time (a value out of a lookup's range, a dimension a node cannot take) is
            // about the request: the caller answers 400 with the runtime's reason.
            throw new Strata.Contracts.Errors.InputValidationException("inputs", $"rejected by the model: {e.Message}");
        }
        finally
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }
        }
    }

    private static TensorMetadata Describe(string name, NodeMetadata node, string what)
    {
        if (!node.IsTensor)
        {
            throw new InvalidDataException($"{what} '{name}' is a {node.OnnxValueType}; only tensor inputs are served");
        }
        var datatype = node.ElementDataType switch
        {
            TensorElementType.Bool => TensorDatatype.Bool,
            TensorElementType.UInt8 => TensorDatatype.U8,
            TensorElementType.UInt16 => TensorDatatype.U16,
            TensorElementType.UInt32 => TensorDatatype.U32,
            TensorElementType.UInt64 => TensorDatatype.U64,
            TensorElementType.Int8 => TensorDatatype.I8,
            TensorElementType.Int16 => TensorDatatype.I16,
            TensorElementType.Int32 => TensorDatatype.I32,
            TensorElementType.Int64 => TensorDatatype.I64,
            TensorElementType.Float => TensorDatatype.Fp32,
            TensorElementType.Double => TensorDatatype.Fp64,
            TensorElementType.String => TensorDatatype.Bytes,
            var other => throw new InvalidDataException($"{what} '{name}' has element type {other}, which Strata does not serve"),
        };
        return new TensorMetadata(name, datatype, [.. node.Dimensions.Select(d => d < 0 ? -1L : d)]);
    }

    private static Tensor Zeros(TensorMetadata spec)
    {
        var shape = spec.Shape.Select(d => d < 0 ? 1L : d).ToArray();
        var data = Array.CreateInstance(TensorDatatype.ClrType(spec.Datatype)!, checked((int)Tensor.ElementCount(shape)));
        if (data is string[] strings)
        {
            Array.Fill(strings, string.Empty);
        }
        return new Tensor(spec.Name, spec.Datatype, shape, data);
    }

    private static OrtValue ToOrt(Tensor tensor) => tensor.Data switch
    {
        float[] d => OrtValue.CreateTensorValueFromMemory(d, tensor.Shape),
        double[] d => OrtValue.CreateTensorValueFromMemory(d, tensor.Shape),
        long[] d => OrtValue.CreateTensorValueFromMemory(d, tensor.Shape),
        int[] d => OrtValue.CreateTensorValueFromMemory(d, tensor.Shape),
        short[] d => OrtValue.CreateTensorValueFromMemory(d, tensor.Shape),
        sbyte[] d => OrtValue.CreateTensorValueFromMemory(d, tensor.Shape),
        ulong[] d => OrtValue.CreateTensorValueFromMemory(d, tensor.Shape),
        uint[] d => OrtValue.CreateTensorValueFromMemory(d, tensor.Shape),
        ushort[] d => OrtValue.CreateTensorValueFromMemory(d, tensor.Shape),
        byte[] d => OrtValue.CreateTensorValueFromMemory(d, tensor.Shape),
        bool[] d => OrtValue.CreateTensorValueFromMemory(d, tensor.Shape),
        string[] d => Strings(d, tensor.Shape),
        _ => throw new ArgumentException($"{tensor.Data.GetType().Name} is not a tensor element array", nameof(tensor)),
    };

    private static OrtValue Strings(string[] data, long[] shape)
    {
        var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
        for (var i = 0; i < data.Length; i++)
        {
            value.StringTensorSetElementAt(data[i].AsSpan(), i);
        }
        return value;
    }

    private static Tensor FromOrt(string name, OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        var shape = info.Shape;
        var (datatype, data) = info.ElementDataType switch
        {
            TensorElementType.Float => (TensorDatatype.Fp32, (Array)value.GetTensorDataAsSpan<float>().ToArray()),
            TensorElementType.Double => (TensorDatatype.Fp64, value.GetTensorDataAsSpan<double>().ToArray()),
            TensorElementType.Int64 => (TensorDatatype.I64, value.GetTensorDataAsSpan<long>().ToArray()),
            TensorElementType.Int32 => (TensorDatatype.I32, value.GetTensorDataAsSpan<int>().ToArray()),
            TensorElementType.Int16 => (TensorDatatype.I16, value.GetTensorDataAsSpan<short>().ToArray()),
            TensorElementType.Int8 => (TensorDatatype.I8, value.GetTensorDataAsSpan<sbyte>().ToArray()),
            TensorElementType.UInt64 => (TensorDatatype.U64, value.GetTensorDataAsSpan<ulong>().ToArray()),
            TensorElementType.UInt32 => (TensorDatatype.U32, value.GetTensorDataAsSpan<uint>().ToArray()),
            TensorElementType.UInt16 => (TensorDatatype.U16, value.GetTensorDataAsSpan<ushort>().ToArray()),
            TensorElementType.UInt8 => (TensorDatatype.U8, value.GetTensorDataAsSpan<byte>().ToArray()),
            TensorElementType.Bool => (TensorDatatype.Bool, value.GetTensorDataAsSpan<bool>().ToArray()),
            TensorElementType.String => (TensorDatatype.Bytes, value.GetStringTensorAsArray()),
            var other => throw new InvalidDataException($"output '{name}' has element type {other}, which Strata does not serve"),
        };
        return new Tensor(name, datatype, shape, data);
    }
}
