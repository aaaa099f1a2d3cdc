namespace Strata.Contracts.Registry;

/// <summary>Artifact formats the registry records and serving can load.</summary>
public static class ModelFormats
{
    /// <summary>An ML.NET model zip (pipeline including normalisation) with a <c>Features</c> float vector input, trained
    /// on a feature view (its inputs are the view's).</summary>
    public const string MlNet = "mlnet";

    /// <summary>An ONNX graph (trained anywhere); its inputs and outputs are the graph's own tensors.</summary>
    public const string Onnx = "onnx";

    public static IReadOnlyList<string> All { get; } = [MlNet, Onnx];
}
