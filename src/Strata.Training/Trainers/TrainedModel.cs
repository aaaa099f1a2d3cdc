namespace Strata.Training.Trainers;

/// <summary>A trained pipeline as an ML.NET zip, with its holdout metrics, split sizes and evaluation report.</summary>
public sealed record TrainedModel(byte[] Artifact, IReadOnlyDictionary<string, double> Metrics, int TrainRows, int HoldoutRows, EvaluationReport Evaluation);
