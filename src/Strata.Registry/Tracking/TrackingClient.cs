using Strata.Contracts.Errors;
using Strata.Contracts.Tracking;

namespace Strata.Registry.Tracking;

/// <summary><see cref="ITrackingClient"/> in process, on the tracking store (the same store the MLflow API serves); the
/// store throws the domain's exceptions, as <see cref="MlflowClient"/> does over HTTP.</summary>
public sealed class TrackingClient(ITrackingStore store, TimeProvider time) : ITrackingClient
{
    public async Task<string> EnsureExperimentAsync(string name, CancellationToken cancellationToken = default)
    {
        if (await store.GetExperimentByNameAsync(name, cancellationToken) is { } existing)
        {
            return existing.ExperimentId;
        }
        try
        {
            return await store.CreateExperimentAsync(name, null, [], time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        }
        catch (ResourceConflictException)
        {
            return (await store.GetExperimentByNameAsync(name, cancellationToken))!.ExperimentId;
        }
    }

    public Task<Run> CreateRunAsync(string experimentId, string runName, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken = default) =>
        store.CreateRunAsync(experimentId, string.Empty, runName, time.GetUtcNow().ToUnixTimeMilliseconds(), tags, cancellationToken);

    public Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValue> parameters, IReadOnlyList<KeyValue> tags,
        CancellationToken cancellationToken = default) =>
        store.LogBatchAsync(runId, metrics, parameters, tags, cancellationToken);

    public Task UpdateRunAsync(string runId, RunStatus status, long endTime, CancellationToken cancellationToken = default) =>
        store.UpdateRunAsync(runId, status, endTime, null, cancellationToken);

    public async Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken = default) =>
        await store.GetRunAsync(runId, cancellationToken) ?? throw new ResourceNotFoundException("run", runId);

    public async Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken = default)
    {
        var experiments = new List<Experiment>();
        for (var offset = 0; ; )
        {
            var page = await store.SearchExperimentsAsync([], [], ViewType.ActiveOnly, 1000, offset, cancellationToken);
            experiments.AddRange(page.Items);
            if (!page.More)
            {
                return experiments;
            }
            offset += page.Items.Count;
        }
    }

    public async Task<(IReadOnlyList<Run> Runs, string? NextPageToken)> SearchRunsAsync(IReadOnlyList<string> experimentIds, string? filter,
        IReadOnlyList<string> orderBy, int maxResults, string? pageToken, CancellationToken cancellationToken = default)
    {
        if (maxResults is < 1 or > MlflowApi.MaxResultsLimit)
        {
            throw new InputValidationException("max_results", $"{maxResults} is not between 1 and {MlflowApi.MaxResultsLimit}");
        }
        var offset = MlflowApi.PageToken(pageToken);
        var page = await store.SearchRunsAsync(experimentIds, SearchFilter.ParseRuns(filter), SearchFilter.ParseRunOrder(orderBy), ViewType.ActiveOnly,
            maxResults, offset, cancellationToken);
        return (page.Items, MlflowApi.NextToken(page, offset));
    }

    public async Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string key, CancellationToken cancellationToken = default)
    {
        var metrics = new List<Metric>();
        for (var offset = 0; ; )
        {
            var page = await store.GetMetricHistoryAsync(runId, key, MlflowApi.MaxMetricHistory, offset, cancellationToken);
            metrics.AddRange(page.Items);
            if (!page.More)
            {
                return metrics;
            }
            offset += page.Items.Count;
        }
    }
}
