using Strata.Serving.Models;

namespace Strata.Serving.Protocols;

/// <summary>A served model's tensors as the Open Inference Protocol describes them: one FP64 input per feature-view
/// input and one FP64 <c>probability</c> output, each with a variable batch dimension (-1).</summary>
public static class ModelSignature
{
    public const string Output = "probability";
    public const string Datatype = "FP64";

    public static IReadOnlyList<TensorMetadata> Inputs(LoadedModel model) =>
        [.. model.View.Inputs.Select(i => new TensorMetadata(i.Name, Datatype, [-1]))];

    public static IReadOnlyList<TensorMetadata> Outputs { get; } = [new(Output, Datatype, [-1])];
}
