using Strata.Contracts.Errors;
using Strata.Contracts.Tracking;

namespace Strata.Registry.Tracking;

/// <summary><see cref="ITrackingClient"/> in process, on the tracking store (the same store the MLflow API serves).</summary>
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
        catch (MlflowException e) when (e.ErrorCode == "RESOURCE_ALREADY_EXISTS")
        {
            return (await store.GetExperimentByNameAsync(name, cancellationToken))!.ExperimentId;
        }
    }

    public Task<Run> CreateRunAsync(string experimentId, string runName, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken = default) =>
        Translate(() => store.CreateRunAsync(experimentId, string.Empty, runName, time.GetUtcNow().ToUnixTimeMilliseconds(), tags, cancellationToken));

    public Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValue> parameters, IReadOnlyList<KeyValue> tags,
        CancellationToken cancellationToken = default) =>
        Translate(async () =>
        {
            await store.LogBatchAsync(runId, metrics, parameters, tags, cancellationToken);
            return true;
        });

    public Task UpdateRunAsync(string runId, string status, long endTime, CancellationToken cancellationToken = default) =>
        Translate(() => store.UpdateRunAsync(runId, status, endTime, null, cancellationToken));

    public Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken = default) =>
        Translate(async () => await store.GetRunAsync(runId, cancellationToken) ?? throw new ResourceNotFoundException("run", runId));

    /// <summary>The store's MLflow errors as the domain's exceptions, as <see cref="MlflowClient"/> throws them.</summary>
    private static async Task<T> Translate<T>(Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (MlflowException e) when (e.StatusCode == 404)
        {
            throw new ResourceNotFoundException("tracking resource", e.Message);
        }
        catch (MlflowException e)
        {
            throw new InputValidationException("request", e.Message);
        }
    }
}
