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
    /// <summary>One of <see cref="TaskNames.All"/>: binary classification (label 0/1, the default), multiclass
    /// classification (each distinct label value a class) or regression (a numeric label).</summary>
    public string Task { get; init; } = TaskNames.BinaryClassification;
    /// <summary>One of <see cref="TrainerNames.All"/> that fits the task (<see cref="TrainerNames.For"/>).</summary>
    public string Trainer { get; init; } = TrainerNames.FastForest;
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
/// its inputs first, so serving applies exactly what training fitted.</summary>
public static class TrainerNames
{
    public const string FastForest = "fast_forest";
    public const string FastTree = "fast_tree";
    public const string LightGbm = "lightgbm";
    public const string LogisticRegression = "logistic_regression";
    public const string Sdca = "sdca";

    public static IReadOnlyList<string> All { get; } = [FastForest, FastTree, LightGbm, LogisticRegression, Sdca];

    /// <summary>The trainers of a task: every one classifies; logistic regression does not regress.</summary>
    public static IReadOnlyList<string> For(string task) => task == TaskNames.Regression ? [FastForest, FastTree, LightGbm, Sdca] : All;

    /// <summary>Whether the trainer grows trees (its size is the request's <c>trees</c>).</summary>
    public static bool HasTrees(string trainer) => trainer is FastForest or FastTree or LightGbm;
}

/// <summary>The learning tasks, each with its headline holdout metric (what a search maximises or minimises).</summary>
public static class TaskNames
{
    public const string BinaryClassification = "binary_classification";
    public const string MulticlassClassification = "multiclass_classification";
    public const string Regression = "regression";

    public static IReadOnlyList<string> All { get; } = [BinaryClassification, MulticlassClassification, Regression];

    /// <summary>AUC (binary), macro-averaged accuracy (multiclass), RMSE (regression).</summary>
    public static string PrimaryMetric(string task) => task switch
    {
        MulticlassClassification => "macro_accuracy",
        Regression => "rmse",
        _ => "auc",
    };

    /// <summary>Whether a higher primary metric is better (RMSE is an error).</summary>
    public static bool HigherIsBetter(string task) => task != Regression;
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
