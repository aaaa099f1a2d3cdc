using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Tracking;
using Strata.ServiceDefaults;

namespace Strata.Registry.Tracking;

/// <summary>MLflow's tracking REST API 2.0 under <c>/api/2.0/mlflow/</c>, with MLflow's conventions: GET calls take
/// query parameters, POST calls a JSON body; snake_case fields; errors as <c>{"error_code", "message"}</c> with
/// MLflow's status codes (<see cref="MlflowErrorShape"/>), unknown paths included. Experiments (<c>create</c>,
/// <c>get</c>, <c>get-by-name</c>, <c>search</c>, <c>delete</c>, <c>restore</c>), runs (<c>create</c>, <c>update</c>,
/// <c>get</c>, <c>delete</c>, <c>restore</c>, <c>log-metric</c>, <c>log-parameter</c>, <c>log-batch</c>,
/// <c>set-tag</c>, <c>delete-tag</c>, <c>search</c>) and <c>metrics/get-history</c>; one named handler per call.</summary>
public static partial class MlflowApi
{
    public const string Prefix = MlflowRoutes.Prefix;
    public const int MaxResultsLimit = 50_000;
    public const int MaxKeyLength = 250;
    public const int MaxParamValueLength = 6000;
    public const int MaxTagValueLength = 8000;
    public const int MaxBatchMetrics = 1000;
    public const int MaxBatchParams = 100;
    public const int MaxBatchTags = 100;
    public const int MaxBatchEntries = 1000;
    public const int MaxMetricHistory = 25_000;
    public const int MaxExperimentNameLength = 256;
    public const string ParentRunTag = "mlflow.parentRunId";

    /// <summary>The largest request body the API reads (a full log-batch is far smaller).</summary>
    public const long MaxBodyBytes = 16L << 20;

    public static IEndpointRouteBuilder MapMlflowApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).InModule(ModuleNames.Registry).WithTags("MLflow tracking")
            .WithErrorShape(MlflowErrorShape.Instance)
            .WithMetadata(new BodySizeLimit(MaxBodyBytes));

        api.MapPost(MlflowRoutes.ExperimentsCreate, CreateExperiment);
        api.MapGet(MlflowRoutes.ExperimentsGet, GetExperiment);
        api.MapGet(MlflowRoutes.ExperimentsGetByName, GetExperimentByName);
        api.MapPost(MlflowRoutes.ExperimentsSearch, SearchExperiments);
        api.MapPost(MlflowRoutes.ExperimentsDelete, DeleteExperiment);
        api.MapPost(MlflowRoutes.ExperimentsRestore, RestoreExperiment);
        api.MapPost(MlflowRoutes.ExperimentsUpdate, UpdateExperiment);
        api.MapPost(MlflowRoutes.ExperimentsSetTag, SetExperimentTag);
        api.MapPost(MlflowRoutes.ExperimentsDeleteTag, DeleteExperimentTag);

        api.MapPost(MlflowRoutes.RunsCreate, CreateRun);
        api.MapPost(MlflowRoutes.RunsUpdate, UpdateRun);
        api.MapGet(MlflowRoutes.RunsGet, GetRun);
        api.MapPost(MlflowRoutes.RunsDelete, DeleteRun);
        api.MapPost(MlflowRoutes.RunsRestore, RestoreRun);
        api.MapPost(MlflowRoutes.RunsLogMetric, LogMetric);
        api.MapPost(MlflowRoutes.RunsLogParameter, LogParameter);
        api.MapPost(MlflowRoutes.RunsSetTag, SetTag);
        api.MapPost(MlflowRoutes.RunsDeleteTag, DeleteTag);
        api.MapPost(MlflowRoutes.RunsLogBatch, LogBatch);
        api.MapPost(MlflowRoutes.RunsLogModel, LogModel);
        api.MapPost(MlflowRoutes.RunsLogInputs, LogInputs);
        api.MapPost(MlflowRoutes.RunsSearch, SearchRuns);
        api.MapGet(MlflowRoutes.MetricsGetHistory, GetMetricHistory);
        api.MapGet("/artifacts/list", MlflowArtifactsApi.ListRun);

        MapModelRegistry(api);

        // Any other path under the prefix: MLflow's ENDPOINT_NOT_FOUND, not a problem document.
        api.Map("/{**path}", NoEndpoint).ExcludeFromDescription();
        return app;
    }

    /// <summary>What routing matched nothing else for: a call this API answers with a body not declared JSON (MLflow's
    /// server refuses those too), else an unknown endpoint.</summary>
    private static JsonHttpResult<MlflowError> NoEndpoint(HttpRequest request, EndpointDataSource endpoints) =>
        !request.HasJsonContentType() && endpoints.Endpoints.OfType<RouteEndpoint>().Any(e =>
            string.Equals("/" + e.RoutePattern.RawText?.TrimStart('/'), request.Path.Value, StringComparison.Ordinal)
            && e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains(request.Method, StringComparer.OrdinalIgnoreCase) == true)
            ? MlflowErrorShape.Error(StatusCodes.Status400BadRequest, "INVALID_PARAMETER_VALUE",
                $"Bad Request. Content-Type must be application/json, not '{request.ContentType}'.")
            : MlflowErrorShape.Error(StatusCodes.Status404NotFound, "ENDPOINT_NOT_FOUND",
                $"No API endpoint {request.Method} {request.Path}: see MLflow's REST API 2.0 for the calls this server answers.");

    // Experiments.

    public static async Task<Ok<ExperimentIdResponse>> CreateExperiment(CreateExperimentRequest request, ITrackingStore store, TimeProvider time, CancellationToken ct)
    {
        var name = Text(Required(request.Name, "name"), "name");
        if (name.Trim().Length == 0 || name.Length > MaxExperimentNameLength)
        {
            throw new InputValidationException("name", $"an experiment name must not be blank and has at most {MaxExperimentNameLength} characters");
        }
        var tags = KeyValues(request.Tags, "tag", MaxTagValueLength, "tags");
        var id = await store.CreateExperimentAsync(name, Text(request.ArtifactLocation, "artifact_location"), tags, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
        return TypedResults.Ok(new ExperimentIdResponse(id));
    }

    public static async Task<Ok<EmptyResponse>> UpdateExperiment(UpdateExperimentRequest request, ITrackingStore store, TimeProvider time, CancellationToken ct)
    {
        var id = Required(request.ExperimentId, "experiment_id");
        var name = Text(Required(request.NewName, "new_name"), "new_name");
        if (name.Trim().Length == 0 || name.Length > MaxExperimentNameLength)
        {
            throw new InputValidationException("new_name", $"an experiment name must not be blank and has at most {MaxExperimentNameLength} characters");
        }
        await store.RenameExperimentAsync(id, name, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
        return TypedResults.Ok(new EmptyResponse());
    }

    public static async Task<Ok<EmptyResponse>> SetExperimentTag(SetExperimentTagRequest request, ITrackingStore store, CancellationToken ct)
    {
        var id = Required(request.ExperimentId, "experiment_id");
        var tag = KeyValueOf(request.Key, request.Value, "tag", MaxTagValueLength, "");
        await store.SetExperimentTagAsync(id, tag.Key, tag.Value, ct);
        return TypedResults.Ok(new EmptyResponse());
    }

    public static async Task<Ok<EmptyResponse>> DeleteExperimentTag(DeleteExperimentTagRequest request, ITrackingStore store, CancellationToken ct)
    {
        await store.SetExperimentTagAsync(Required(request.ExperimentId, "experiment_id"), Required(request.Key, "key"), null, ct);
        return TypedResults.Ok(new EmptyResponse());
    }

    public static async Task<Ok<ExperimentResponse>> GetExperiment([FromQuery(Name = "experiment_id")] string? experimentId, ITrackingStore store, CancellationToken ct)
    {
        var id = Required(experimentId, "experiment_id");
        var experiment = await store.GetExperimentAsync(id, ct) ?? throw new ResourceNotFoundException("experiment", id);
        return TypedResults.Ok(new ExperimentResponse(experiment));
    }

    public static async Task<Ok<ExperimentResponse>> GetExperimentByName([FromQuery(Name = "experiment_name")] string? experimentName, ITrackingStore store,
        CancellationToken ct)
    {
        var name = Required(experimentName, "experiment_name");
        var experiment = await store.GetExperimentByNameAsync(name, ct) ?? throw new ResourceNotFoundException("experiment", name);
        return TypedResults.Ok(new ExperimentResponse(experiment));
    }

    public static async Task<Ok<ExperimentsPage>> SearchExperiments(SearchExperimentsRequest request, ITrackingStore store, CancellationToken ct)
    {
        var max = MaxResults(request.MaxResults, 1000, MaxResultsLimit);
        var offset = PageToken(request.PageToken);
        var page = await store.SearchExperimentsAsync(SearchFilter.ParseExperiments(request.Filter), SearchFilter.ParseExperimentOrder(request.OrderBy),
            View(request.ViewType, "view_type"), max, offset, ct);
        return TypedResults.Ok(new ExperimentsPage(page.Items, NextToken(page, offset)));
    }

    public static Task<Ok<EmptyResponse>> DeleteExperiment(ExperimentIdRequest request, ITrackingStore store, TimeProvider time, CancellationToken ct) =>
        SetExperimentLifecycleAsync(request, store, time, deleted: true, ct);

    public static Task<Ok<EmptyResponse>> RestoreExperiment(ExperimentIdRequest request, ITrackingStore store, TimeProvider time, CancellationToken ct) =>
        SetExperimentLifecycleAsync(request, store, time, deleted: false, ct);

    private static async Task<Ok<EmptyResponse>> SetExperimentLifecycleAsync(ExperimentIdRequest request, ITrackingStore store, TimeProvider time, bool deleted,
        CancellationToken ct)
    {
        await store.SetExperimentLifecycleAsync(Required(request.ExperimentId, "experiment_id"), deleted, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
        return Empty;
    }

    // Runs.

    public static async Task<Ok<RunResponse>> CreateRun(CreateRunRequest request, ITrackingStore store, TimeProvider time, CancellationToken ct)
    {
        var tags = KeyValues(request.Tags, "tag", MaxTagValueLength, "tags");
        await CheckParentRunAsync(tags, store, ct);
        var runName = request.RunName ?? tags.FirstOrDefault(t => t.Key == SqlTrackingStore.RunNameTag)?.Value;
        CheckRunName(runName);
        var run = await store.CreateRunAsync(request.ExperimentId ?? "0", Text(request.UserId, "user_id") ?? string.Empty,
            string.IsNullOrEmpty(runName) ? RunName() : runName, Time(request.StartTime, "start_time") ?? time.GetUtcNow().ToUnixTimeMilliseconds(), tags, ct);
        return TypedResults.Ok(new RunResponse(run));
    }

    public static async Task<Ok<RunInfoResponse>> UpdateRun(UpdateRunRequest request, ITrackingStore store, CancellationToken ct)
    {
        var runId = RunId(request);
        if (request.Status is { } status && !Enum.IsDefined(status))
        {
            throw new InputValidationException("status", $"one of {string.Join(", ", Enum.GetValues<RunStatus>().Select(s => s.Name()))} is expected");
        }
        CheckRunName(request.RunName);
        var info = await store.UpdateRunAsync(runId, request.Status, Time(request.EndTime, "end_time"), string.IsNullOrEmpty(request.RunName) ? null : request.RunName, ct);
        return TypedResults.Ok(new RunInfoResponse(info));
    }

    public static async Task<Ok<RunResponse>> GetRun([FromQuery(Name = "run_id")] string? runId, [FromQuery(Name = "run_uuid")] string? runUuid,
        ITrackingStore store, CancellationToken ct)
    {
        var id = string.IsNullOrEmpty(runId) ? Required(runUuid, "run_id") : runId;
        var run = await store.GetRunAsync(id, ct) ?? throw new ResourceNotFoundException("run", id);
        return TypedResults.Ok(new RunResponse(run));
    }

    public static async Task<Ok<EmptyResponse>> DeleteRun(RunIdRequest request, ITrackingStore store, CancellationToken ct)
    {
        await store.SetRunLifecycleAsync(RunId(request), deleted: true, ct);
        return Empty;
    }

    public static async Task<Ok<EmptyResponse>> RestoreRun(RunIdRequest request, ITrackingStore store, CancellationToken ct)
    {
        await store.SetRunLifecycleAsync(RunId(request), deleted: false, ct);
        return Empty;
    }

    public static async Task<Ok<EmptyResponse>> LogMetric(LogMetricRequest request, ITrackingStore store, CancellationToken ct)
    {
        var runId = RunId(request);
        var metric = MetricOf(new MetricInput(request.Key, request.Value, request.Timestamp, request.Step), "");
        await store.LogBatchAsync(runId, [metric], [], [], ct);
        return Empty;
    }

    public static async Task<Ok<EmptyResponse>> LogParameter(KeyValueRunRequest request, ITrackingStore store, CancellationToken ct)
    {
        var runId = RunId(request);
        await store.LogBatchAsync(runId, [], [KeyValueOf(request.Key, request.Value, "param", MaxParamValueLength, "")], [], ct);
        return Empty;
    }

    /// <summary>The run's <c>mlflow.log-model.history</c> tag: the JSON list of the models logged in it, as MLflow's
    /// server keeps it (the oldest dropped when the list outgrows a tag value).</summary>
    public const string LogModelHistoryTag = "mlflow.log-model.history";

    private static readonly string[] LoggedModelFields = ["artifact_path", "flavors", "utc_time_created", "run_id"];

    public static async Task<Ok<EmptyResponse>> LogModel(LogModelRequest request, ITrackingStore store, CancellationToken ct)
    {
        var runId = RunId(request);
        var text = Text(Required(request.ModelJson, "model_json"), "model_json");
        JsonObject model;
        try
        {
            model = JsonNode.Parse(text) as JsonObject ?? throw new InputValidationException("model_json", "must be a JSON object (an MLmodel)");
        }
        catch (JsonException e)
        {
            throw new InputValidationException("model_json", $"is not JSON: {e.Message}");
        }
        var missing = LoggedModelFields.Where(f => !model.ContainsKey(f)).ToList();
        if (missing.Count > 0)
        {
            throw new InputValidationException("model_json", $"Model json is missing mandatory fields: {string.Join(", ", missing)}");
        }
        var run = await store.GetRunAsync(runId, ct) ?? throw new ResourceNotFoundException("run", runId);
        var history = History((run.Data.Tags ?? []).FirstOrDefault(t => t.Key == LogModelHistoryTag)?.Value);
        history.Add(model);
        while (history.Count > 1 && history.ToJsonString().Length > MaxTagValueLength)
        {
            history.RemoveAt(0);
        }
        var value = history.ToJsonString();
        if (value.Length > MaxTagValueLength)
        {
            throw new InputValidationException("model_json", $"is {text.Length} characters long; a logged model is kept in a tag of at most {MaxTagValueLength}");
        }
        await store.LogBatchAsync(runId, [], [], [new KeyValue(LogModelHistoryTag, value)], ct);
        return TypedResults.Ok(new EmptyResponse());
    }

    public const int MaxDatasetsPerCall = 1000;

    /// <summary>MLflow's limits on a logged dataset's fields (its SQL store's column sizes).</summary>
    private static readonly (string Field, int Max)[] DatasetLimits =
        [("name", 500), ("digest", 36), ("source_type", 36), ("source", 65_535), ("schema", 1_048_575), ("profile", 16_777_215)];

    public static async Task<Ok<EmptyResponse>> LogInputs(LogInputsRequest request, ITrackingStore store, CancellationToken ct)
    {
        var runId = RunId(request);
        var given = request.Datasets ?? [];
        if (given.Count > MaxDatasetsPerCall)
        {
            throw new InputValidationException("datasets", $"{given.Count} datasets in one call; at most {MaxDatasetsPerCall}");
        }
        var inputs = new List<DatasetInput>(given.Count);
        for (var i = 0; i < given.Count; i++)
        {
            var path = $"datasets[{i}]";
            var fields = given[i]?.Dataset ?? throw new InputValidationException(path + ".dataset", "is required");
            string?[] values = [fields.Name, fields.Digest, fields.SourceType, fields.Source, fields.Schema, fields.Profile];
            for (var f = 0; f < DatasetLimits.Length; f++)
            {
                var (field, max) = DatasetLimits[f];
                if (f < 4 && string.IsNullOrEmpty(values[f]))
                {
                    throw new InputValidationException($"{path}.dataset.{field}", "is required");
                }
                if (Text(values[f], $"{path}.dataset.{field}") is { } text && text.Length > max)
                {
                    throw new InputValidationException($"{path}.dataset.{field}", $"is {text.Length} characters long; at most {max}");
                }
            }
            inputs.Add(new DatasetInput(KeyValues(given[i]!.Tags, "tag", MaxTagValueLength, path + ".tags"),
                new Dataset(fields.Name!, fields.Digest!, fields.SourceType!, fields.Source!, fields.Schema, fields.Profile)));
        }
        await store.LogInputsAsync(runId, inputs, ct);
        return TypedResults.Ok(new EmptyResponse());
    }

    /// <summary>The logged models so far; a tag a client overwrote with something else starts the list again.</summary>
    private static JsonArray History(string? tag)
    {
        try
        {
            return tag is not null && JsonNode.Parse(tag) is JsonArray list ? list : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    public static async Task<Ok<EmptyResponse>> SetTag(KeyValueRunRequest request, ITrackingStore store, CancellationToken ct)
    {
        var runId = RunId(request);
        var tag = KeyValueOf(request.Key, request.Value, "tag", MaxTagValueLength, "");
        await CheckParentRunAsync([tag], store, ct);
        await store.LogBatchAsync(runId, [], [], [tag], ct);
        return Empty;
    }

    public static async Task<Ok<EmptyResponse>> DeleteTag(DeleteTagRequest request, ITrackingStore store, CancellationToken ct)
    {
        await store.DeleteTagAsync(Required(request.RunId, "run_id"), Required(request.Key, "key"), ct);
        return Empty;
    }

    public static async Task<Ok<EmptyResponse>> LogBatch(LogBatchRequest request, ITrackingStore store, CancellationToken ct)
    {
        var runId = Required(request.RunId, "run_id");
        var metrics = (request.Metrics ?? []).Select((m, i) => MetricOf(m, $"metrics[{i}].")).ToList();
        var parameters = KeyValues(request.Params, "param", MaxParamValueLength, "params");
        var tags = KeyValues(request.Tags, "tag", MaxTagValueLength, "tags");
        if (metrics.Count > MaxBatchMetrics || parameters.Count > MaxBatchParams || tags.Count > MaxBatchTags || metrics.Count + parameters.Count + tags.Count > MaxBatchEntries)
        {
            throw new InputValidationException("body",
                $"a batch holds at most {MaxBatchMetrics} metrics, {MaxBatchParams} params and {MaxBatchTags} tags, {MaxBatchEntries} in total; " +
                $"got {metrics.Count} metrics, {parameters.Count} params and {tags.Count} tags");
        }
        await CheckParentRunAsync(tags, store, ct);
        foreach (var duplicate in parameters.GroupBy(p => p.Key, StringComparer.Ordinal).Where(g => g.Select(p => p.Value).Distinct(StringComparer.Ordinal).Count() > 1))
        {
            throw new InputValidationException("params", $"the key '{duplicate.Key}' comes twice with different values");
        }
        await store.LogBatchAsync(runId, metrics, [.. parameters.DistinctBy(p => p.Key)], tags, ct);
        return Empty;
    }

    public static async Task<Ok<RunsPage>> SearchRuns(SearchRunsRequest request, ITrackingStore store, CancellationToken ct)
    {
        var max = MaxResults(request.MaxResults, 1000, MaxResultsLimit);
        var offset = PageToken(request.PageToken);
        var page = await store.SearchRunsAsync(request.ExperimentIds ?? [], SearchFilter.ParseRuns(request.Filter), SearchFilter.ParseRunOrder(request.OrderBy),
            View(request.RunViewType, "run_view_type"), max, offset, ct);
        return TypedResults.Ok(new RunsPage(page.Items, NextToken(page, offset)));
    }

    public static async Task<Ok<MetricsPage>> GetMetricHistory([FromQuery(Name = "run_id")] string? runId, [FromQuery(Name = "run_uuid")] string? runUuid,
        [FromQuery(Name = "metric_key")] string? metricKey, [FromQuery(Name = "max_results")] string? maxResults, [FromQuery(Name = "page_token")] string? pageToken,
        ITrackingStore store, CancellationToken ct)
    {
        var id = string.IsNullOrEmpty(runId) ? Required(runUuid, "run_id") : runId;
        var key = Required(metricKey, "metric_key");
        var max = QueryMaxResults(maxResults, MaxMetricHistory, MaxMetricHistory);
        var offset = PageToken(pageToken);
        var page = await store.GetMetricHistoryAsync(id, key, max, offset, ct);
        return TypedResults.Ok(new MetricsPage(page.Items, NextToken(page, offset)));
    }

    // Input rules shared by the handlers.

    private static readonly Ok<EmptyResponse> Empty = TypedResults.Ok(new EmptyResponse());

    private static string Required(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw new InputValidationException(field, "a value is required") : value;

    private static string RunId(RunRequest request) =>
        !string.IsNullOrEmpty(request.RunId) ? request.RunId : Required(request.RunUuid, "run_id");

    private static void CheckRunName(string? runName)
    {
        if (runName is { Length: > MaxKeyLength })
        {
            throw new InputValidationException("run_name", $"is {runName.Length} characters long; at most {MaxKeyLength} are allowed");
        }
        Text(runName, "run_name");
    }

    /// <summary>Text as stored: no NUL character (PostgreSQL's text cannot hold one, and no name or value needs it).</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(value))]
    private static string? Text(string? value, string field) =>
        value?.Contains('\0', StringComparison.Ordinal) == true ? throw new InputValidationException(field, "must not contain a NUL character") : value;

    /// <summary>A time in milliseconds since the epoch: never before it.</summary>
    private static long? Time(long? millis, string field) =>
        millis is < 0 ? throw new InputValidationException(field, $"{millis} is before the epoch; times are milliseconds since 1970-01-01") : millis;

    /// <summary>A <c>mlflow.parentRunId</c> tag names a run that exists (MLflow's UI nests the child under it).</summary>
    private static async Task CheckParentRunAsync(IEnumerable<KeyValue> tags, ITrackingStore store, CancellationToken ct)
    {
        foreach (var parent in tags.Where(t => t.Key == ParentRunTag))
        {
            if (await store.GetRunAsync(parent.Value, ct) is null)
            {
                throw new InputValidationException("tags", $"{ParentRunTag} names run '{parent.Value}', which does not exist");
            }
        }
    }

    private static int MaxResults(long? value, int fallback, int limit) => (value ?? fallback) is var max && max >= 1 && max <= limit
        ? (int)max
        : throw new InputValidationException("max_results", $"{value} is out of range: between 1 and {limit}");

    private static int QueryMaxResults(string? text, int fallback, int limit) => text is null
        ? fallback
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var max) && max >= 1 && max <= limit
            ? max
            : throw new InputValidationException("max_results", $"'{text}' is not a number between 1 and {limit}");

    private static List<KeyValue> KeyValues(IReadOnlyList<KeyValueInput>? items, string what, int maxValue, string field) =>
        [.. (items ?? []).Select((item, i) => item is null
            ? throw new InputValidationException($"{field}[{i}]", $"a {what} object is expected")
            : KeyValueOf(item.Key, item.Value, what, maxValue, $"{field}[{i}]."))];

    private static KeyValue KeyValueOf(string? key, string? value, string what, int maxValue, string path)
    {
        var checkedKey = Required(key, path + "key");
        ValidateKey(checkedKey, what, path + "key");
        var checkedValue = Text(value, path + "value") ?? (what == "param" ? throw new InputValidationException(path + "value", "a value is required") : string.Empty);
        if (checkedValue.Length > maxValue)
        {
            throw new InputValidationException(path + "value", $"the {what} value of '{checkedKey}' is {checkedValue.Length} characters long; at most {maxValue} are allowed");
        }
        return new KeyValue(checkedKey, checkedValue);
    }

    private static Metric MetricOf(MetricInput? item, string path)
    {
        if (item is null)
        {
            throw new InputValidationException(path.TrimEnd('.'), "a metric object is expected");
        }
        var key = Required(item.Key, path + "key");
        ValidateKey(key, "metric", path + "key");
        var value = item.Value ?? throw new InputValidationException(path + "value", "a value is required");
        var timestamp = Time(item.Timestamp, path + "timestamp") ?? throw new InputValidationException(path + "timestamp", "a value is required");
        return new Metric(key, value, timestamp, item.Step ?? 0);
    }

    /// <summary>MLflow's rule for metric, param and tag names: letters, digits, <c>_ - . / : space</c>, at most 250
    /// characters, no path traversal.</summary>
    private static void ValidateKey(string key, string what, string field)
    {
        if (key.Length > MaxKeyLength)
        {
            throw new InputValidationException(field, $"the {what} name '{key[..32]}...' is {key.Length} characters long; at most {MaxKeyLength} are allowed");
        }
        if (!KeyPattern().IsMatch(key) || key.StartsWith('/') || key.Split('/').Contains(".."))
        {
            throw new InputValidationException(field,
                $"'{key}' is not a valid {what} name: names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/), and may not start with a slash or contain '..'");
        }
    }

    [GeneratedRegex(@"^[/\w.\- :]+$")]
    private static partial Regex KeyPattern();

    private static ViewType View(string? value, string field) => value switch
    {
        null or "" or "ACTIVE_ONLY" => ViewType.ActiveOnly,
        "DELETED_ONLY" => ViewType.DeletedOnly,
        "ALL" => ViewType.All,
        _ => throw new InputValidationException(field, $"'{value}' is not a view type: ACTIVE_ONLY, DELETED_ONLY or ALL"),
    };

    internal static string? NextToken<T>(Page<T> page, int offset) => page.More ? Token(offset + page.Items.Count) : null;

    private static string Token(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"offset\": {offset}}}"));

    internal static int PageToken(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }
        try
        {
            using var document = JsonDocument.Parse(Convert.FromBase64String(token));
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("offset", out var offset)
                && offset.ValueKind == JsonValueKind.Number && offset.TryGetInt32(out var value) && value >= 0)
            {
                return value;
            }
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
        }
        throw new InputValidationException("page_token", $"'{token}' is not a page token this server issued");
    }

    private static readonly string[] Adjectives = ["amber", "bold", "calm", "deft", "eager", "fair", "glad", "keen", "lucid", "merry", "noble", "quick", "sage", "swift", "vivid", "wise"];
    private static readonly string[] Nouns = ["badger", "crane", "dolphin", "falcon", "gecko", "heron", "ibis", "lynx", "marten", "otter", "panda", "quail", "raven", "seal", "tern", "wolf"];

    /// <summary>A readable name for a run created without one, as MLflow gives (adjective-noun-number).</summary>
    private static string RunName() =>
        $"{Adjectives[Random.Shared.Next(Adjectives.Length)]}-{Nouns[Random.Shared.Next(Nouns.Length)]}-{Random.Shared.Next(1000)}";
}
