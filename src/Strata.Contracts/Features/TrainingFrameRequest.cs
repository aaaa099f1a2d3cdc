namespace Strata.Contracts.Features;

/// <summary>Which dataset version to turn into training data, through which view, with which label column.</summary>
public sealed record TrainingFrameRequest(string DatasetId, string View, string Label);
