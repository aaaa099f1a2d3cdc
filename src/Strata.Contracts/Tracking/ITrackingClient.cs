namespace Strata.Contracts.Tracking;

/// <summary>The tracking side of the Registry module as trainers see it: experiments and runs in MLflow's model. In
/// process it writes the tracking store; across processes it is <see cref="MlflowClient"/> on the MLflow REST API.</summary>
public interface ITrackingClient
{
    /// <summary>The experiment's id, creating it when it does not exist yet.</summary>
    Task<string> EnsureExperimentAsync(string name, CancellationToken cancellationToken = default);

    Task<Run> CreateRunAsync(string experimentId, string runName, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken = default);

    Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValue> parameters, IReadOnlyList<KeyValue> tags,
        CancellationToken cancellationToken = default);

    Task UpdateRunAsync(string runId, RunStatus status, long endTime, CancellationToken cancellationToken = default);

    Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken = default);
}
