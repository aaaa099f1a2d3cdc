namespace Strata.Contracts.Training;

/// <summary>What to train: a dataset version (or the newest version of <see cref="Dataset"/>), a feature view, a label,
/// the trainer (<see cref="TrainerNames"/>) and its size, the holdout fraction and seed, the model to register under and the
/// alias to move to the new version.</summary>
public sealed record TrainingRequest
{
    public string? DatasetId { get; init; }
    public string Dataset { get; init; } = "seed";
    public string View { get; init; } = "seed_features";
    public string Label { get; init; } = "target";
    public string Model { get; init; } = "seed";
    /// <summary>One of <see cref="TrainerNames.All"/>; binary classification (label 0/1).</summary>
    public string Trainer { get; init; } = TrainerNames.FastForest;
    /// <summary>Trees of a forest, boosting iterations of FastTree and LightGBM; not used by logistic regression.</summary>
    public int Trees { get; init; } = 100;
    public double HoldoutFraction { get; init; } = 0.2;
    public int Seed { get; init; }
    /// <summary>k-fold cross-validation on the training split (2-10 folds; 0 for none): mean and standard deviation of
    /// each fold's AUC and log-loss, as run metrics, beside the holdout's.</summary>
    public int Folds { get; init; }
    /// <summary>Alias to point at the new version; null or empty registers without moving any alias.</summary>
    public string? Alias { get; init; } = "champion";
    /// <summary>The tracking experiment the run is logged under; null or empty: the model's name.</summary>
    public string? Experiment { get; init; }
    /// <summary>A hyperparameter search instead of one training: each trial a child run, the best by holdout AUC registered.</summary>
    public SearchSpace? Search { get; init; }
    /// <summary>Correlates the <c>model.trained</c> event with whoever asked (set from a <c>training.requested</c> event).</summary>
    public string? RequestId { get; init; }
}

/// <summary>The binary classification trainers Strata runs (ML.NET): a random forest (FastForest, Platt-calibrated),
/// gradient-boosted trees (FastTree, LightGBM) and L-BFGS logistic regression. Every pipeline standardises its inputs
/// first, so serving applies exactly what training fitted.</summary>
public static class TrainerNames
{
    public const string FastForest = "fast_forest";
    public const string FastTree = "fast_tree";
    public const string LightGbm = "lightgbm";
    public const string LogisticRegression = "logistic_regression";

    public static IReadOnlyList<string> All { get; } = [FastForest, FastTree, LightGbm, LogisticRegression];
}

/// <summary>A hyperparameter search over trainers and tree counts (the request's own when a list is left out):
/// <c>grid</c> tries every combination (at most <see cref="MaxTrials"/>), <c>random</c> a seeded random
/// <see cref="MaxTrials"/> of them. Each trial is a child run of the request's run (MLflow's <c>mlflow.parentRunId</c>
/// tag); the trial with the best holdout AUC is registered.</summary>
public sealed record SearchSpace
{
    public IReadOnlyList<string>? Trainers { get; init; }
    public IReadOnlyList<int>? Trees { get; init; }
    public string Strategy { get; init; } = "grid";
    public int MaxTrials { get; init; } = 20;
}
