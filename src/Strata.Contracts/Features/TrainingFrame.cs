namespace Strata.Contracts.Features;

/// <summary>Training data: one column per feature (in the view's order) and the label, all of <see cref="Rows"/> values.</summary>
public sealed record TrainingFrame(
    string DatasetId,
    string View,
    string ViewVersion,
    int Rows,
    IReadOnlyList<string> FeatureNames,
    IReadOnlyList<double[]> Features,
    double[] Label);
