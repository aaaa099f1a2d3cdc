namespace Strata.Contracts.Features;

/// <summary>Which dataset version to turn into training data and with which label column: through an on-demand
/// <see cref="View"/> applied row by row, or, when <see cref="FeatureService"/> or <see cref="Features"/> is set, by
/// point-in-time retrieval of those features for each row's entity at its <c>event_timestamp</c> (the dataset is then
/// the label dataset: join keys, <c>event_timestamp</c>, the label).</summary>
public sealed record TrainingFrameRequest(string DatasetId, string? View, string Label)
{
    public string? FeatureService { get; init; }

    /// <summary><c>view:feature</c> (or <c>view</c>) references, instead of a feature service.</summary>
    public IReadOnlyList<string>? Features { get; init; }
}
