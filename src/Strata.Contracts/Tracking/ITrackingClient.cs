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

    /// <summary>Every active experiment.</summary>
    Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken = default);

    /// <summary>One page of runs matching MLflow's search syntax (<paramref name="filter"/>, <paramref name="orderBy"/>
    /// as in <c>runs/search</c>) and the token of the next page (null at the end).</summary>
    Task<(IReadOnlyList<Run> Runs, string? NextPageToken)> SearchRunsAsync(IReadOnlyList<string> experimentIds, string? filter,
        IReadOnlyList<string> orderBy, int maxResults, string? pageToken, CancellationToken cancellationToken = default);

    /// <summary>Every value logged for a metric of a run, by timestamp then step.</summary>
    Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string key, CancellationToken cancellationToken = default);
}
