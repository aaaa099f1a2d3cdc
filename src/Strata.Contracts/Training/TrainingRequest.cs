namespace Strata.Contracts.Training;

/// <summary>What to train: a dataset version (or the newest version of <see cref="Dataset"/>), a feature view, a label,
/// the forest's size, the holdout fraction and seed, the model to register under and the alias to move to the new version.</summary>
public sealed record TrainingRequest
{
    public string? DatasetId { get; init; }
    public string Dataset { get; init; } = "seed";
    public string View { get; init; } = "seed_features";
    public string Label { get; init; } = "target";
    public string Model { get; init; } = "seed";
    public int Trees { get; init; } = 100;
    public double HoldoutFraction { get; init; } = 0.2;
    public int Seed { get; init; }
    /// <summary>Alias to point at the new version; null or empty registers without moving any alias.</summary>
    public string? Alias { get; init; } = "champion";
    /// <summary>The tracking experiment the run is logged under; null or empty: the model's name.</summary>
    public string? Experiment { get; init; }
    /// <summary>Correlates the <c>model.trained</c> event with whoever asked (set from a <c>training.requested</c> event).</summary>
    public string? RequestId { get; init; }
}
