namespace Strata.Contracts.Registry;

/// <summary>Artifact formats the registry records and serving can load.</summary>
public static class ModelFormats
{
    /// <summary>An ML.NET model zip (pipeline including normalisation) with a <c>Features</c> float vector input, trained
    /// on a feature view (its inputs are the view's).</summary>
    public const string MlNet = "mlnet";

    /// <summary>An ONNX graph (trained anywhere); its inputs and outputs are the graph's own tensors.</summary>
    public const string Onnx = "onnx";

    /// <summary>Registered but not servable here (an MLflow model of a flavor Strata has no runtime for, or a source
    /// outside Strata's artifact store): the version's <see cref="UnservableReason"/> param says why.</summary>
    public const string External = "external";

    /// <summary>The param of an <see cref="External"/> version saying why serving does not load it.</summary>
    public const string UnservableReason = "unservable_reason";

    /// <summary>The param recording the source a version was registered from (MLflow's <c>source</c>).</summary>
    public const string Source = "mlflow.source";

    public static IReadOnlyList<string> All { get; } = [MlNet, Onnx, External];
}
