using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Strata.Contracts.Errors;
using Strata.Contracts.Http;

namespace Strata.Contracts.Tracking;

/// <summary>A client of the MLflow tracking REST API 2.0 (Strata's Registry module, or MLflow's own tracking server):
/// the calls Strata's CLI and trainers use. MLflow's errors become the domain's exceptions: 400 →
/// <see cref="InputValidationException"/> (RESOURCE_ALREADY_EXISTS → <see cref="ResourceConflictException"/>), 404 →
/// <see cref="ResourceNotFoundException"/>.</summary>
public sealed class MlflowClient(HttpClient http, TimeProvider time) : ITrackingClient
{
    private static readonly string Api = MlflowRoutes.Prefix.TrimStart('/');

    public async Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken = default)
    {
        var body = await SendAsync(HttpMethod.Get, $"{MlflowRoutes.ExperimentsGetByName}?experiment_name={Uri.EscapeDataString(name)}", null, ("experiment", name), cancellationToken, notFoundAsNull: true);
        return body?.GetProperty("experiment").Deserialize<Experiment>(StrataJson.Options);
    }

    public async Task<string> CreateExperimentAsync(string name, CancellationToken cancellationToken = default)
    {
        var body = await SendAsync(HttpMethod.Post, MlflowRoutes.ExperimentsCreate, new { name }, ("experiment", name), cancellationToken);
        return body!.Value.GetProperty("experiment_id").GetString()!;
    }

    /// <summary>The experiment's id, creating it when it does not exist yet (a concurrent creation is tolerated).</summary>
    public async Task<string> EnsureExperimentAsync(string name, CancellationToken cancellationToken = default)
    {
        if (await GetExperimentByNameAsync(name, cancellationToken) is { } existing)
        {
            return existing.ExperimentId;
        }
        try
        {
            return await CreateExperimentAsync(name, cancellationToken);
        }
        catch (ResourceConflictException)
        {
            // Created meanwhile by someone else (MLflow's RESOURCE_ALREADY_EXISTS).
            if (await GetExperimentByNameAsync(name, cancellationToken) is { } created)
            {
                return created.ExperimentId;
            }
            throw;
        }
    }

    public async Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        var body = await SendAsync(HttpMethod.Get, $"{MlflowRoutes.RunsGet}?run_id={Uri.EscapeDataString(runId)}", null, ("run", runId), cancellationToken);
        return body!.Value.GetProperty("run").Deserialize<Run>(StrataJson.Options)!;
    }

    public async Task<Run> CreateRunAsync(string experimentId, string runName, IReadOnlyList<KeyValue> tags, CancellationToken cancellationToken = default)
    {
        var body = await SendAsync(HttpMethod.Post, MlflowRoutes.RunsCreate,
            new { experiment_id = experimentId, run_name = runName, start_time = time.GetUtcNow().ToUnixTimeMilliseconds(), tags }, ("experiment", experimentId), cancellationToken);
        return body!.Value.GetProperty("run").Deserialize<Run>(StrataJson.Options)!;
    }

    public async Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<KeyValue> parameters, IReadOnlyList<KeyValue> tags,
        CancellationToken cancellationToken = default) =>
        await SendAsync(HttpMethod.Post, MlflowRoutes.RunsLogBatch, new { run_id = runId, metrics, @params = parameters, tags }, ("run", runId), cancellationToken);

    public async Task UpdateRunAsync(string runId, RunStatus status, long endTime, CancellationToken cancellationToken = default) =>
        await SendAsync(HttpMethod.Post, MlflowRoutes.RunsUpdate, new { run_id = runId, status, end_time = endTime }, ("run", runId), cancellationToken);

    /// <summary>Every active experiment (<c>experiments/search</c>, all pages).</summary>
    public async Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken = default)
    {
        var experiments = new List<Experiment>();
        string? token = null;
        do
        {
            var body = (await SendAsync(HttpMethod.Post, MlflowRoutes.ExperimentsSearch, new { max_results = 1000, page_token = token }, ("experiments", "all"), cancellationToken))!.Value;
            if (body.TryGetProperty("experiments", out var list))
            {
                experiments.AddRange(list.Deserialize<List<Experiment>>(StrataJson.Options)!);
            }
            token = body.TryGetProperty("next_page_token", out var next) ? next.GetString() : null;
        }
        while (token is not null);
        return experiments;
    }

    /// <summary>One page of <c>runs/search</c> and the token of the next (null at the end).</summary>
    public async Task<(IReadOnlyList<Run> Runs, string? NextPageToken)> SearchRunsAsync(IReadOnlyList<string> experimentIds, string? filter,
        IReadOnlyList<string> orderBy, int maxResults, string? pageToken, CancellationToken cancellationToken = default)
    {
        var body = (await SendAsync(HttpMethod.Post, MlflowRoutes.RunsSearch,
            new { experiment_ids = experimentIds, filter, order_by = orderBy, max_results = maxResults, page_token = pageToken }, ("experiment", string.Join(",", experimentIds)), cancellationToken))!.Value;
        var runs = body.TryGetProperty("runs", out var list) ? list.Deserialize<List<Run>>(StrataJson.Options)! : [];
        return (runs, body.TryGetProperty("next_page_token", out var next) ? next.GetString() : null);
    }

    /// <summary>Every value of the metric (<c>metrics/get-history</c>, all pages).</summary>
    public async Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string key, CancellationToken cancellationToken = default)
    {
        var metrics = new List<Metric>();
        string? token = null;
        do
        {
            var body = (await SendAsync(HttpMethod.Get, $"{MlflowRoutes.MetricsGetHistory}?run_id={Uri.EscapeDataString(runId)}&metric_key={Uri.EscapeDataString(key)}"
                + (token is null ? "" : "&page_token=" + Uri.EscapeDataString(token)), null, ("run", runId), cancellationToken))!.Value;
            if (body.TryGetProperty("metrics", out var list))
            {
                metrics.AddRange(list.Deserialize<List<Metric>>(StrataJson.Options)!);
            }
            token = body.TryGetProperty("next_page_token", out var next) ? next.GetString() : null;
        }
        while (token is not null);
        return metrics;
    }

    private async Task<JsonElement?> SendAsync(HttpMethod method, string path, object? body, (string Kind, string Id) subject, CancellationToken cancellationToken,
        bool notFoundAsNull = false)
    {
        using var response = await ModuleHttp.SendRawAsync(http, ModuleNames.Registry, () => new HttpRequestMessage(method, Api + path)
        {
            Content = body is null ? null : JsonContent.Create(body, options: StrataJson.Options),
        }, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound && notFoundAsNull)
        {
            return null;
        }
        JsonElement answer;
        try
        {
            answer = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        }
        catch (JsonException e)
        {
            throw new DependencyUnavailableException(ModuleNames.Registry, $"{path} answered {(int)response.StatusCode} with a body that is not JSON", e);
        }
        if (response.IsSuccessStatusCode)
        {
            return answer;
        }
        var message = answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("message", out var m) ? m.GetString() : response.ReasonPhrase;
        var code = answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("error_code", out var c) ? c.GetString() : null;
        throw response.StatusCode switch
        {
            HttpStatusCode.BadRequest when code == "RESOURCE_ALREADY_EXISTS" => new ResourceConflictException(message ?? "already exists"),
            HttpStatusCode.BadRequest => new InputValidationException("request", message ?? "rejected"),
            HttpStatusCode.NotFound => new ResourceNotFoundException(subject.Kind, subject.Id),
            _ => new DependencyUnavailableException(ModuleNames.Registry, $"{path} answered {(int)response.StatusCode}: {message}"),
        };
    }
}
