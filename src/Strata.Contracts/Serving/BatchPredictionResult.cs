namespace Strata.Contracts.Serving;

/// <summary>The batch form of <c>/predict</c>: one probability per input row, in order, and the version that scored them all.</summary>
public sealed record BatchPredictionResult(double[] Predictions, string ModelVersion);
