using System.Globalization;
using Strata.Contracts.Errors;
using Strata.Contracts.Registry;

namespace Strata.Serving.Models;

/// <summary>One model version loaded by a runtime (<see cref="MlNetModel"/>, <see cref="OnnxModel"/>), warm and ready:
/// its signature (named, typed tensors, -1 for a variable dimension) and inference on tensors. Instances are
/// immutable and safe for concurrent requests; a swap replaces the reference, never the model under a request.</summary>
public abstract class ServableModel
{
    // Derived from the signature, which the runtimes set after this constructor: computed on first use, asked per request.
    private string? _primaryOutput;
    private bool? _canBatch;

    protected ServableModel(ModelVersion version, DateTimeOffset loadedAt)
    {
        ArgumentNullException.ThrowIfNull(version);
        Version = version;
        LoadedAt = loadedAt;
        VersionText = version.Version.ToString(CultureInfo.InvariantCulture);
    }

    public ModelVersion Version { get; }

    public string Name => Version.Model;

    public string VersionText { get; }

    public DateTimeOffset LoadedAt { get; }

    /// <summary>The Open Inference Protocol <c>platform</c> (<c>mlnet</c>, <c>onnxruntime_onnx</c>).</summary>
    public abstract string Platform { get; }

    public abstract IReadOnlyList<TensorMetadata> Inputs { get; }

    public abstract IReadOnlyList<TensorMetadata> Outputs { get; }

    /// <summary>The output KServe V1 <c>predictions</c> and the prediction log report: a probability when the model has one.</summary>
    public virtual string PrimaryOutput => _primaryOutput ??=
        Outputs.FirstOrDefault(o => o.Name.Contains("probabilit", StringComparison.OrdinalIgnoreCase))?.Name ?? Outputs[0].Name;

    /// <summary>Whether requests can be stacked along the first dimension into one batch (every input's first dimension
    /// is variable and the others fixed).</summary>
    public bool CanBatch => _canBatch ??= Inputs.All(i => i.Shape.Count > 0 && i.Shape[0] == -1 && i.RowElements is not null);

    /// <summary>Whether <see cref="Explain"/> gives per-feature contributions for this model.</summary>
    public virtual bool CanExplain => false;

    /// <summary>Checks request tensors against the signature and returns them in signature order, converted to what
    /// the runtime takes: every input once, none unknown, datatype and shape compatible, the same number of rows.
    /// Each rejection is an <see cref="InputValidationException"/> naming the input.</summary>
    public Tensor[] Bind(IReadOnlyList<Tensor> given)
    {
        ArgumentNullException.ThrowIfNull(given);
        var bound = new Tensor[Inputs.Count];
        foreach (var tensor in given)
        {
            var index = IndexOf(tensor.Name);
            if (index < 0)
            {
                throw new InputValidationException(tensor.Name, $"is not an input of model '{Name}' (inputs: {string.Join(", ", Inputs.Select(i => i.Name))})");
            }
            if (bound[index] is not null)
            {
                throw new InputValidationException(tensor.Name, "is given twice");
            }
            bound[index] = BindInput(Inputs[index], tensor);
        }
        long? rows = null;
        for (var i = 0; i < bound.Length; i++)
        {
            if (bound[i] is null)
            {
                throw new InputValidationException(Inputs[i].Name, $"is missing (model '{Name}' takes {string.Join(", ", Inputs.Select(x => x.Name))})");
            }
            if (Inputs[i].Shape.Count > 0 && Inputs[i].Shape[0] == -1)
            {
                if (rows is long n && bound[i].Rows != n)
                {
                    throw new InputValidationException(Inputs[i].Name, string.Create(CultureInfo.InvariantCulture, $"has {bound[i].Rows} rows; other inputs have {n}"));
                }
                rows = bound[i].Rows;
            }
        }
        return bound;
    }

    /// <summary>The default check: the exact datatype, the same rank, every fixed dimension equal.</summary>
    protected virtual Tensor BindInput(TensorMetadata spec, Tensor given)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(given);
        if (given.Datatype != spec.Datatype)
        {
            throw new InputValidationException(spec.Name, $"has datatype {given.Datatype}; the model takes {spec.Datatype}");
        }
        var compatible = given.Shape.Length == spec.Shape.Count;
        for (var d = 0; compatible && d < given.Shape.Length; d++)
        {
            compatible = spec.Shape[d] < 0 || spec.Shape[d] == given.Shape[d];
        }
        if (!compatible)
        {
            throw new InputValidationException(spec.Name,
                $"has shape [{string.Join(", ", given.Shape)}]; the model takes [{string.Join(", ", spec.Shape)}] (-1: any size)");
        }
        return given;
    }

    /// <summary>Scores inputs already <see cref="Bind">bound</see>; returns the named outputs (all when empty) in that order.</summary>
    public abstract Tensor[] Infer(Tensor[] inputs, IReadOnlyList<string> outputs);

    /// <summary>Per-feature contributions to each row's score; only when <see cref="CanExplain"/>.</summary>
    public virtual IReadOnlyList<Explanation> Explain(Tensor[] inputs) =>
        throw new InputValidationException("model", $"model '{Name}' ({Platform}) has no explainer; tree and linear ML.NET models do");

    public int IndexOf(string input)
    {
        for (var i = 0; i < Inputs.Count; i++)
        {
            if (Inputs[i].Name == input)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>The rows of the bound inputs (1 for a model without a batch dimension).</summary>
    public static long RowsOf(Tensor[] inputs) => inputs.Length == 0 ? 1 : inputs[0].Rows;
}

/// <summary>Why a model scored a row as it did: the score explained, and each feature's value and contribution to it.</summary>
public sealed record Explanation(double Prediction, double Score, string Method, IReadOnlyList<FeatureContribution> Contributions);

/// <summary>One feature's value in a row and its contribution to the model's raw score.</summary>
public sealed record FeatureContribution(string Feature, double Value, double Contribution);
