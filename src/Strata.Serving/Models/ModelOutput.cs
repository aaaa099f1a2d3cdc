namespace Strata.Serving.Models;

/// <summary>The model's output: the calibrated positive-class probability.</summary>
public sealed class ModelOutput
{
    public float Probability { get; set; }
}
