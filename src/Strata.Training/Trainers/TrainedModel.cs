namespace Strata.Training.Trainers;

/// <summary>A trained pipeline as an ML.NET zip, with its holdout metrics, split sizes, evaluation report and signature.</summary>
public sealed record TrainedModel(byte[] Artifact, IReadOnlyDictionary<string, double> Metrics, int TrainRows, int HoldoutRows, EvaluationReport Evaluation,
    ModelSignature Signature)
{
    /// <summary>Wall time of the pipeline's fit (normalisation, trees, calibration), without evaluation.</summary>
    public TimeSpan FitTime { get; init; }

    /// <summary>How the features entered the pipeline (which ones are one-hot encoded).</summary>
    public FeatureLayout Layout { get; init; } = FeatureLayout.AllNumeric([]);

    /// <summary>The holdout's predictions as serving logs them (the distribution prediction drift is measured against):
    /// binary, the probability; regression, the predicted value; multiclass, the predicted class's value.</summary>
    public IReadOnlyList<double> HoldoutScores { get; init; } = [];

    /// <summary>Multiclass: the class values in the order of the model's scores (empty for the other tasks).</summary>
    public IReadOnlyList<double> Classes { get; init; } = [];
}

/// <summary>A model's inputs and outputs (Open Inference Protocol datatypes, -1 for a variable dimension).</summary>
public sealed record ModelSignature(IReadOnlyList<SignatureColumn> Inputs, IReadOnlyList<SignatureColumn> Outputs);

/// <summary>One input or output: name, datatype, shape, and for the feature vector the feature names in order.</summary>
public sealed record SignatureColumn(string Name, string Datatype, IReadOnlyList<int> Shape, IReadOnlyList<string>? Features);
