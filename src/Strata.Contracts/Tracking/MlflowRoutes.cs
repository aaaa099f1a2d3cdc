namespace Strata.Contracts.Tracking;

/// <summary>The MLflow REST API 2.0 paths Strata's Registry module answers (MLflow's own, so they never change):
/// <c>MlflowApi</c> maps these under <see cref="Prefix"/> and <see cref="MlflowClient"/> fills them.</summary>
public static class MlflowRoutes
{
    public const string Prefix = "/api/2.0/mlflow";
    public const string ExperimentsCreate = "/experiments/create";
    public const string ExperimentsDelete = "/experiments/delete";
    public const string ExperimentsGet = "/experiments/get";
    public const string ExperimentsGetByName = "/experiments/get-by-name";
    public const string ExperimentsRestore = "/experiments/restore";
    public const string ExperimentsSearch = "/experiments/search";
    public const string ExperimentsUpdate = "/experiments/update";
    public const string ExperimentsSetTag = "/experiments/set-experiment-tag";
    public const string ModelVersionsTransitionStage = "/model-versions/transition-stage";
    public const string ModelVersionsUpdate = "/model-versions/update";
    public const string ModelVersionsDelete = "/model-versions/delete";
    public const string RegisteredModelsDelete = "/registered-models/delete";
    public const string RegisteredModelsUpdate = "/registered-models/update";
    public const string RegisteredModelsRename = "/registered-models/rename";
    public const string ExperimentsDeleteTag = "/experiments/delete-tag";
    public const string ModelVersionsGetDownloadUri = "/model-versions/get-download-uri";
    public const string RegisteredModelsGetLatestVersions = "/registered-models/get-latest-versions";
    public const string MetricsGetHistory = "/metrics/get-history";
    public const string ModelVersionsCreate = "/model-versions/create";
    public const string ModelVersionsDeleteTag = "/model-versions/delete-tag";
    public const string ModelVersionsGet = "/model-versions/get";
    public const string ModelVersionsSearch = "/model-versions/search";
    public const string ModelVersionsSetTag = "/model-versions/set-tag";
    public const string RegisteredModelsAlias = "/registered-models/alias";
    public const string RegisteredModelsCreate = "/registered-models/create";
    public const string RegisteredModelsDeleteTag = "/registered-models/delete-tag";
    public const string RegisteredModelsGet = "/registered-models/get";
    public const string RegisteredModelsSearch = "/registered-models/search";
    public const string RegisteredModelsSetTag = "/registered-models/set-tag";
    public const string RunsCreate = "/runs/create";
    public const string RunsDelete = "/runs/delete";
    public const string RunsDeleteTag = "/runs/delete-tag";
    public const string RunsGet = "/runs/get";
    public const string RunsLogBatch = "/runs/log-batch";
    public const string RunsLogModel = "/runs/log-model";
    public const string RunsLogInputs = "/runs/log-inputs";
    public const string RunsLogMetric = "/runs/log-metric";
    public const string RunsLogParameter = "/runs/log-parameter";
    public const string RunsRestore = "/runs/restore";
    public const string RunsSearch = "/runs/search";
    public const string RunsSetTag = "/runs/set-tag";
    public const string RunsUpdate = "/runs/update";
}
