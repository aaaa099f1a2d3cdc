using Strata.Contracts.Tracking;
namespace Strata.Registry.Tracking;

/// <summary>Experiments, runs, params, metrics (full history and the latest value per key, which searches use) and tags.
/// Every write is one transaction: a rejected request writes nothing.</summary>
public interface ITrackingStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>A new experiment's id; <see cref="Strata.Contracts.Errors.ResourceConflictException"/> when the name is taken.</summary>
    Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<KeyValue> tags, long now, CancellationToken cancellationToken);

    Task<Experiment?> GetExperimentAsync(string experimentId, CancellationToken cancellationToken);

    Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken);

    Task<Page<Experiment>> SearchExperimentsAsync(IReadOnlyList<SearchClause> filter, IReadOnlyList<SearchOrder> orderBy, ViewType view, int maxResults, int offset,
        CancellationToken cancellationToken);

    /// <summary>Marks an experiment (and its runs) deleted, or active again; MLflow's soft delete.</summary>
    /// <summary>Renames an experiment (its runs stay); a name in use is a conflict.</summary>
    Task RenameExperimentAsync(string experimentId, string newName, long now, CancellationToken cancellationToken);

    /// <summary>Sets (<paramref name="value"/>) or deletes (null) an experiment's tag; deleting one it does not have is a not-found.</summary>
    Task SetExperimentTagAsync(string experimentId, string key, string? value, CancellationToken cancellationToken);

    Task SetExperimentLifecycleAsync(string experimentId, bool deleted, long now, CancellationToken cancellationToken);

    /// <summary>Marks a run deleted, or active again.</summary>
    Task SetRunLifecycleAsync(string runId, bool deleted, CancellationToken cancellationToken);

    Task<Run> CreateRunAsync(string experimentId, string userId, string runName, long startTime, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken);

    Task<RunInfo> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName, CancellationToken cancellationToken);

    Task<Run?> GetRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Records datasets a run read (MLflow's <c>runs/log-inputs</c>); one it already has is kept.</summary>
    Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> inputs, CancellationToken cancellationToken);

    /// <summary>Logs metrics (appended to the history), params (immutable: the same value again is accepted, another
    /// is INVALID_PARAMETER_VALUE) and tags (overwritten) atomically.</summary>
    Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValue> parameters, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken);

    Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken);

    Task<Page<Run>> SearchRunsAsync(IReadOnlyList<string> experimentIds, IReadOnlyList<SearchClause> filter, IReadOnlyList<SearchOrder> orderBy, ViewType view,
        int maxResults, int offset, CancellationToken cancellationToken);

    /// <summary>Every value logged for the metric, by timestamp then step.</summary>
    Task<Page<Metric>> GetMetricHistoryAsync(string runId, string key, int maxResults, int offset, CancellationToken cancellationToken);

    /// <summary>Records a file of the artifacts service at <paramref name="path"/> (relative to its root), stored in the
    /// content-addressed artifact store under <paramref name="sha256"/>; a file already there is replaced.</summary>
    Task PutArtifactFileAsync(string path, string sha256, long size, long now, CancellationToken cancellationToken);

    /// <summary>The file at <paramref name="prefix"/> and every file under it (as a folder), by path.</summary>
    Task<IReadOnlyList<ArtifactFile>> ListArtifactFilesAsync(string prefix, CancellationToken cancellationToken);

    Task<int> DeleteArtifactFilesAsync(string prefix, CancellationToken cancellationToken);
}

/// <summary>A file of the MLflow artifacts service: its path under the artifacts root and its content's hash and size.</summary>
public sealed record ArtifactFile(string Path, string Sha256, long Size);
