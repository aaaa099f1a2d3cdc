namespace Strata.Contracts.Training;

/// <summary>A finished training: the registered version, holdout metrics (auc, accuracy, log_loss, ...), sizes, and the
/// tracking run it was logged as.</summary>
public sealed record TrainingResult(
    string Model,
    int Version,
    string? Alias,
    string DatasetId,
    string View,
    int TrainRows,
    int HoldoutRows,
    IReadOnlyDictionary<string, double> Metrics,
    double Seconds,
    string? RunId = null);
