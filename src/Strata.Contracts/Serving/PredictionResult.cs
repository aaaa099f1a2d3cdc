namespace Strata.Contracts.Serving;

/// <summary>The seed's prediction shape: the positive-class probability and the model version that produced it.</summary>
public sealed record PredictionResult(double Prediction, string ModelVersion);
