using System.Text.Json.Serialization;

namespace Strata.Contracts.Training;

/// <summary>What to train: a dataset version (or the newest version of <see cref="Dataset"/>), a feature view, a label,
/// the trainer (<see cref="Trainer"/>) and its size, the holdout fraction and seed, the model to register under and the
/// alias to move to the new version. Dataset, view, label and model left out take the deployment's defaults
/// (<c>Strata:Training:Defaults</c>); without them they are required.</summary>
public sealed record TrainingRequest
{
    public string? DatasetId { get; init; }
    public string? Dataset { get; init; }
    public string? View { get; init; }
    /// <summary>Train on stored features instead of a view: a feature service's features, retrieved point-in-time for
    /// each row of the dataset (the label dataset: join keys, <c>event_timestamp</c>, the label).</summary>
    public string? FeatureService { get; init; }
    /// <summary>Or <c>view:feature</c> references, like a feature service's.</summary>
    public IReadOnlyList<string>? Features { get; init; }

    /// <summary>Whether the request trains on stored features (a feature service or references) rather than a view.</summary>
    [JsonIgnore]
    public bool TrainsOnStoredFeatures => FeatureService is not null || Features is { Count: > 0 };
    public string? Label { get; init; }
    public string? Model { get; init; }
    /// <summary>Binary classification (label 0/1, the default), multiclass classification (each distinct label value a
    /// class) or regression (a numeric label).</summary>
    public TrainingTask Task { get; init; } = TrainingTask.BinaryClassification;
    /// <summary>A trainer that fits the task (<see cref="TrainerCatalog.For"/>).</summary>
    public Trainer Trainer { get; init; } = Trainer.FastForest;
    /// <summary>Trees of a forest, boosting iterations of FastTree and LightGBM; not used by logistic regression.</summary>
    public int Trees { get; init; } = 100;
    public double HoldoutFraction { get; init; } = 0.2;
    public int Seed { get; init; }
    /// <summary>k-fold cross-validation on the training split (2-10 folds; 0 for none): mean and standard deviation of
    /// each fold's AUC and log-loss, as run metrics, beside the holdout's.</summary>
    public int Folds { get; init; }
    /// <summary>Features of the view that are categories coded as whole numbers (a merchant category code, a country
    /// or device id): one-hot encoded inside the saved pipeline, one indicator per value seen in training (at most
    /// <see cref="MaxCategories"/> values over all of them); a value not seen in training encodes as none. Null or empty:
    /// every feature is numeric.</summary>
    public IReadOnlyList<string>? Categorical { get; init; }

    /// <summary>Binary classification: the decision threshold on the positive class's probability at which the holdout's
    /// confusion matrix, precision, recall, F1 and accuracy are computed (and recorded as the version's <c>threshold</c>
    /// param, for clients turning its probabilities into decisions). Between 0 and 1, exclusive.</summary>
    public double Threshold { get; init; } = DefaultThreshold;

    public const double DefaultThreshold = 0.5;

    /// <summary>Most distinct values the categorical features may have together.</summary>
    public const int MaxCategories = 1000;
    /// <summary>Alias to point at the new version; null or empty registers without moving any alias.</summary>
    public string? Alias { get; init; } = "champion";
    /// <summary>The tracking experiment the run is logged under; null or empty: the model's name.</summary>
    public string? Experiment { get; init; }
    /// <summary>A hyperparameter search instead of one training: each trial a child run, the best by holdout AUC registered.</summary>
    public SearchSpace? Search { get; init; }
    /// <summary>Correlates the <c>model.trained</c> event with whoever asked (set from a <c>training.requested</c> event).</summary>
    public string? RequestId { get; init; }
}

/// <summary>The trainers Strata runs (ML.NET): a random forest (FastForest), gradient-boosted trees (FastTree, LightGBM),
/// and linear models: L-BFGS logistic regression (maximum entropy for multiclass) and SDCA. Every pipeline standardises
/// its inputs first, so serving applies exactly what training fitted. On the wire: <c>fast_forest</c>, <c>fast_tree</c>,
/// <c>lightgbm</c>, <c>logistic_regression</c>, <c>sdca</c>.</summary>
public enum Trainer
{
    FastForest,
    FastTree,
    [JsonStringEnumMemberName("lightgbm")] LightGbm,
    LogisticRegression,
    Sdca,
}

/// <summary>The learning tasks (<c>binary_classification</c>, <c>multiclass_classification</c>, <c>regression</c>),
/// each with its headline holdout metric (what a search maximises or minimises).</summary>
public enum TrainingTask
{
    BinaryClassification,
    MulticlassClassification,
    Regression,
}

/// <summary>How a search picks its trials: every combination (<c>grid</c>) or a seeded random sample (<c>random</c>).</summary>
public enum SearchStrategy
{
    Grid,
    Random,
}

public static class TrainerCatalog
{
    public static IReadOnlyList<Trainer> All { get; } = Enum.GetValues<Trainer>();

    /// <summary>The trainers of a task: every one classifies; logistic regression does not regress.</summary>
    public static IReadOnlyList<Trainer> For(TrainingTask task) =>
        task == TrainingTask.Regression ? [Trainer.FastForest, Trainer.FastTree, Trainer.LightGbm, Trainer.Sdca] : All;

    /// <summary>Whether the trainer grows trees (its size is the request's <c>trees</c>).</summary>
    public static bool HasTrees(this Trainer trainer) => trainer is Trainer.FastForest or Trainer.FastTree or Trainer.LightGbm;
}

public static class TrainingTasks
{
    public static IReadOnlyList<TrainingTask> All { get; } = Enum.GetValues<TrainingTask>();

    /// <summary>AUC (binary), macro-averaged accuracy (multiclass), RMSE (regression).</summary>
    public static string PrimaryMetric(this TrainingTask task) => task switch
    {
        TrainingTask.MulticlassClassification => "macro_accuracy",
        TrainingTask.Regression => "rmse",
        _ => "auc",
    };

    /// <summary>Whether a higher primary metric is better (RMSE is an error).</summary>
    public static bool HigherIsBetter(this TrainingTask task) => task != TrainingTask.Regression;
}

/// <summary>A hyperparameter search over trainers and tree counts (the request's own when a list is left out):
/// <c>grid</c> tries every combination (at most <see cref="MaxTrials"/>), <c>random</c> a seeded random
/// <see cref="MaxTrials"/> of them. Each trial is a child run of the request's run (MLflow's <c>mlflow.parentRunId</c>
/// tag); the trial with the best holdout AUC is registered.</summary>
public sealed record SearchSpace
{
    public IReadOnlyList<Trainer>? Trainers { get; init; }
    public IReadOnlyList<int>? Trees { get; init; }
    public SearchStrategy Strategy { get; init; } = SearchStrategy.Grid;
    public int MaxTrials { get; init; } = 20;
}

/// <summary>Names of a model version's params that serving reads.</summary>
public static class TrainingParameterNames
{
    public const string Task = "task";

    /// <summary>Multiclass: a JSON array of the class values, in the order of the model's scores.</summary>
    public const string Classes = "classes";

    /// <summary>A JSON array of the features the pipeline one-hot encodes (<see cref="TrainingRequest.Categorical"/>),
    /// absent when none; serving splits its input by it.</summary>
    public const string Categorical = "categorical";

    /// <summary>Multiclass: a JSON array, per feature, of the value its explanations compare against (the training
    /// frame's mean; a categorical feature's most frequent code).</summary>
    public const string FeatureBaseline = "feature_baseline";

    /// <summary>Binary: the decision threshold the holdout's confusion matrix was computed at (<see cref="TrainingRequest.Threshold"/>).</summary>
    public const string Threshold = "threshold";
}
