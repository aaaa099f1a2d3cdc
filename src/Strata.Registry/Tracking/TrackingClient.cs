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
}
