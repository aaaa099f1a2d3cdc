using Strata.Contracts.Tracking;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.ServiceDefaults;

namespace Strata.Registry.Tracking;

/// <summary>MLflow's tracking REST API 2.0 under <c>/api/2.0/mlflow/</c>, with MLflow's conventions: GET calls take
/// query parameters, POST calls a JSON body; snake_case fields; errors as <c>{"error_code", "message"}</c> with
/// MLflow's status codes. Experiments (<c>create</c>, <c>get</c>, <c>get-by-name</c>, <c>search</c>, <c>delete</c>,
/// <c>restore</c>), runs (<c>create</c>, <c>update</c>, <c>get</c>, <c>delete</c>, <c>restore</c>, <c>log-metric</c>, <c>log-parameter</c>, <c>log-batch</c>,
/// <c>set-tag</c>, <c>delete-tag</c>, <c>search</c>) and <c>metrics/get-history</c>.</summary>
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

    public static IEndpointRouteBuilder MapMlflowApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).InModule(ModuleNames.Registry).WithTags("MLflow tracking")
            .AddEndpointFilter(async (context, next) =>
            {
                try
                {
                    return await next(context);
                }
                catch (Exception e) when (Translate(e) is { } error)
                {
                    return Results.Json(new { error_code = error.ErrorCode, message = error.Message }, statusCode: error.StatusCode);
                }
            });

        api.MapPost(MlflowRoutes.ExperimentsCreate, async (HttpRequest request, ITrackingStore store, TimeProvider time, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var name = RequiredString(body, "name");
            if (name.Trim().Length == 0)
            {
                throw MlflowException.InvalidParameter("Invalid experiment name: the name must not be empty.");
            }
            var tags = KeyValues(body, "tags", MaxTagValueLength);
            var id = await store.CreateExperimentAsync(name, OptionalString(body, "artifact_location"), tags, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
            return Ok(new { experiment_id = id });
        });
        api.MapGet(MlflowRoutes.ExperimentsGet, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            var id = RequiredQuery(request, "experiment_id");
            var experiment = await store.GetExperimentAsync(id, ct) ?? throw MlflowException.NotFound($"No Experiment with id={id} exists");
            return Ok(new { experiment });
        });
        api.MapGet(MlflowRoutes.ExperimentsGetByName, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            var name = RequiredQuery(request, "experiment_name");
            var experiment = await store.GetExperimentByNameAsync(name, ct) ?? throw MlflowException.NotFound($"Could not find experiment with name '{name}'");
            return Ok(new { experiment });
        });
        api.MapPost(MlflowRoutes.ExperimentsSearch, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var max = MaxResults(body, 1000);
            var offset = PageToken(OptionalString(body, "page_token"));
            var page = await store.SearchExperimentsAsync(SearchFilter.ParseExperiments(OptionalString(body, "filter")),
                SearchFilter.ParseExperimentOrder(Strings(body, "order_by")), View(OptionalString(body, "view_type"), "view_type"), max, offset, ct);
            return Ok(new { experiments = page.Items, next_page_token = page.More ? Token(offset + page.Items.Count) : null });
        });

        api.MapPost(MlflowRoutes.ExperimentsDelete, (HttpRequest request, ITrackingStore store, TimeProvider time, CancellationToken ct) =>
            ExperimentLifecycleAsync(request, store, time, deleted: true, ct));
        api.MapPost(MlflowRoutes.ExperimentsRestore, (HttpRequest request, ITrackingStore store, TimeProvider time, CancellationToken ct) =>
            ExperimentLifecycleAsync(request, store, time, deleted: false, ct));
        api.MapPost(MlflowRoutes.RunsDelete, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            await store.SetRunLifecycleAsync(RunId(await BodyAsync(request, ct)), deleted: true, ct);
            return Ok(new { });
        });
        api.MapPost(MlflowRoutes.RunsRestore, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            await store.SetRunLifecycleAsync(RunId(await BodyAsync(request, ct)), deleted: false, ct);
            return Ok(new { });
        });

        api.MapPost(MlflowRoutes.RunsCreate, async (HttpRequest request, ITrackingStore store, TimeProvider time, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var experimentId = OptionalString(body, "experiment_id") ?? "0";
            var tags = KeyValues(body, "tags", MaxTagValueLength);
            var runName = OptionalString(body, "run_name") ?? tags.FirstOrDefault(t => t.Key == SqlTrackingStore.RunNameTag)?.Value;
            if (runName is { Length: > MaxKeyLength })
            {
                throw MlflowException.InvalidParameter($"Run name exceeds the maximum length of {MaxKeyLength} characters.");
            }
            var run = await store.CreateRunAsync(experimentId, OptionalString(body, "user_id") ?? string.Empty, string.IsNullOrEmpty(runName) ? RunName() : runName,
                OptionalLong(body, "start_time") ?? time.GetUtcNow().ToUnixTimeMilliseconds(), tags, ct);
            return Ok(new { run });
        });
        api.MapPost(MlflowRoutes.RunsUpdate, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var runId = RunId(body);
            var status = OptionalString(body, "status");
            if (status is not null && !RunStatus.All.Contains(status))
            {
                throw MlflowException.InvalidParameter($"Invalid value {status} for parameter 'status' supplied. It must be one of {string.Join(", ", RunStatus.All)}.");
            }
            var runName = OptionalString(body, "run_name");
            if (runName is { Length: > MaxKeyLength })
            {
                throw MlflowException.InvalidParameter($"Run name exceeds the maximum length of {MaxKeyLength} characters.");
            }
            var info = await store.UpdateRunAsync(runId, status, OptionalLong(body, "end_time"), string.IsNullOrEmpty(runName) ? null : runName, ct);
            return Ok(new { run_info = info });
        });
        api.MapGet(MlflowRoutes.RunsGet, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            var runId = request.Query["run_id"].FirstOrDefault() is { Length: > 0 } id ? id : RequiredQuery(request, "run_uuid");
            var run = await store.GetRunAsync(runId, ct) ?? throw MlflowException.NotFound($"Run with id={runId} not found");
            return Ok(new { run });
        });
        api.MapPost(MlflowRoutes.RunsLogMetric, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var runId = RunId(body);
            await store.LogBatchAsync(runId, [MetricOf(body)], [], [], ct);
            return Ok(new { });
        });
        api.MapPost(MlflowRoutes.RunsLogParameter, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var runId = RunId(body);
            await store.LogBatchAsync(runId, [], [KeyValueOf(body, "param", MaxParamValueLength)], [], ct);
            return Ok(new { });
        });
        api.MapPost(MlflowRoutes.RunsSetTag, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var runId = RunId(body);
            await store.LogBatchAsync(runId, [], [], [KeyValueOf(body, "tag", MaxTagValueLength)], ct);
            return Ok(new { });
        });
        api.MapPost(MlflowRoutes.RunsDeleteTag, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var runId = RequiredString(body, "run_id");
            await store.DeleteTagAsync(runId, RequiredString(body, "key"), ct);
            return Ok(new { });
        });
        api.MapPost(MlflowRoutes.RunsLogBatch, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var runId = RequiredString(body, "run_id");
            var metrics = Objects(body, "metrics").Select(MetricOf).ToList();
            var parameters = Objects(body, "params").Select(p => KeyValueOf(p, "param", MaxParamValueLength)).ToList();
            var tags = Objects(body, "tags").Select(t => KeyValueOf(t, "tag", MaxTagValueLength)).ToList();
            if (metrics.Count > MaxBatchMetrics || parameters.Count > MaxBatchParams || tags.Count > MaxBatchTags || metrics.Count + parameters.Count + tags.Count > MaxBatchEntries)
            {
                throw MlflowException.InvalidParameter(
                    $"A batch logging request can contain at most {MaxBatchMetrics} metrics, {MaxBatchParams} params and {MaxBatchTags} tags, {MaxBatchEntries} in total; " +
                    $"got {metrics.Count} metrics, {parameters.Count} params and {tags.Count} tags.");
            }
            foreach (var duplicate in parameters.GroupBy(p => p.Key, StringComparer.Ordinal).Where(g => g.Select(p => p.Value).Distinct(StringComparer.Ordinal).Count() > 1))
            {
                throw MlflowException.InvalidParameter($"Duplicate parameter keys have been submitted with different values: '{duplicate.Key}'.");
            }
            await store.LogBatchAsync(runId, metrics, [.. parameters.DistinctBy(p => p.Key)], tags, ct);
            return Ok(new { });
        });
        api.MapPost(MlflowRoutes.RunsSearch, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var max = MaxResults(body, 1000);
            var offset = PageToken(OptionalString(body, "page_token"));
            var page = await store.SearchRunsAsync(Strings(body, "experiment_ids"), SearchFilter.ParseRuns(OptionalString(body, "filter")),
                SearchFilter.ParseRunOrder(Strings(body, "order_by")), View(OptionalString(body, "run_view_type"), "run_view_type"), max, offset, ct);
            return Ok(new { runs = page.Items, next_page_token = page.More ? Token(offset + page.Items.Count) : null });
        });
        api.MapGet(MlflowRoutes.MetricsGetHistory, async (HttpRequest request, ITrackingStore store, CancellationToken ct) =>
        {
            var runId = request.Query["run_id"].FirstOrDefault() is { Length: > 0 } id ? id : RequiredQuery(request, "run_uuid");
            var key = RequiredQuery(request, "metric_key");
            var max = request.Query["max_results"].FirstOrDefault() is { } text
                ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m is > 0 and <= 25_000 ? m
                    : throw MlflowException.InvalidParameter($"Invalid value {text} for parameter 'max_results': between 1 and 25000.")
                : 25_000;
            var offset = PageToken(request.Query["page_token"].FirstOrDefault());
            var page = await store.GetMetricHistoryAsync(runId, key, max, offset, ct);
            return Ok(new { metrics = page.Items, next_page_token = page.More ? Token(offset + page.Items.Count) : null });
        });
        MapModelRegistry(api);
        return app;
    }

    private static async Task<IResult> ExperimentLifecycleAsync(HttpRequest request, ITrackingStore store, TimeProvider time, bool deleted, CancellationToken ct)
    {
        var body = await BodyAsync(request, ct);
        await store.SetExperimentLifecycleAsync(RequiredString(body, "experiment_id"), deleted, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
        return Ok(new { });
    }

    private static IResult Ok(object value) => Results.Json(value, StrataJson.Options);

    /// <summary>MLflow's error for what went wrong, or null for a bug (left to the 500 handler).</summary>
    private static MlflowException? Translate(Exception e) => e switch
    {
        MlflowException m => m,
        InputValidationException v => MlflowException.InvalidParameter($"Invalid value for parameter '{v.Field}': {v.Reason}"),
        JsonException j => MlflowException.InvalidParameter($"The request body is not valid JSON: {j.Message}"),
        BadHttpRequestException b => new MlflowException(b.StatusCode == 413 ? "REQUEST_LIMIT_EXCEEDED" : "BAD_REQUEST", b.Message, b.StatusCode),
        _ => null,
    };

    private static async Task<JsonElement> BodyAsync(HttpRequest request, CancellationToken ct)
    {
        var body = await RequestBody.ReadAllAsync(request, bytes =>
        {
            var reader = new Utf8JsonReader(bytes);
            return JsonElement.ParseValue(ref reader);
        }, ct, maxBytes: 16L << 20);
        return body.ValueKind == JsonValueKind.Object ? body : throw MlflowException.InvalidParameter("The request body must be a JSON object.");
    }

    private static string RequiredQuery(HttpRequest request, string name) =>
        request.Query[name].FirstOrDefault() is { Length: > 0 } value ? value : throw MlflowException.Missing(name);

    private static string? OptionalString(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            // Protobuf JSON writes int64 as strings and accepts numbers: an id may come either way.
            JsonValueKind.Number when name.EndsWith("_id", StringComparison.Ordinal) => value.GetRawText(),
            _ => throw MlflowException.InvalidParameter($"Invalid value {value.GetRawText()} for parameter '{name}' supplied: a string is expected."),
        };
    }

    private static string RequiredString(JsonElement body, string name) =>
        OptionalString(body, name) is { Length: > 0 } value ? value : throw MlflowException.Missing(name);

    private static string RunId(JsonElement body) =>
        OptionalString(body, "run_id") is { Length: > 0 } id ? id : OptionalString(body, "run_uuid") is { Length: > 0 } uuid ? uuid : throw MlflowException.Missing("run_id");

    private static long? OptionalLong(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number))
        {
            return number;
        }
        if (value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number))
        {
            return number;
        }
        throw MlflowException.InvalidParameter($"Invalid value {value.GetRawText()} for parameter '{name}' supplied: an integer is expected.");
    }

    private static double RequiredDouble(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw MlflowException.Missing(name);
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number))
        {
            return number;
        }
        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString();
            if (text is "NaN" or "Infinity" or "-Infinity" or "inf" or "-inf" || double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                return text switch
                {
                    "NaN" => double.NaN,
                    "Infinity" or "inf" => double.PositiveInfinity,
                    "-Infinity" or "-inf" => double.NegativeInfinity,
                    _ => double.Parse(text!, NumberStyles.Float, CultureInfo.InvariantCulture),
                };
            }
        }
        throw MlflowException.InvalidParameter($"Invalid value {value.GetRawText()} for parameter '{name}' supplied: a number is expected.");
    }

    private static int MaxResults(JsonElement body, int fallback)
    {
        var max = OptionalLong(body, "max_results") ?? fallback;
        return max is >= 1 and <= MaxResultsLimit
            ? (int)max
            : throw MlflowException.InvalidParameter($"Invalid value {max} for parameter 'max_results' supplied. It must be at most {MaxResultsLimit} and at least 1.");
    }

    private static List<string> Strings(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (value.ValueKind == JsonValueKind.String)
        {
            return [value.GetString()!];
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw MlflowException.InvalidParameter($"Invalid value {value.GetRawText()} for parameter '{name}' supplied: a list of strings is expected.");
        }
        return [.. value.EnumerateArray().Select(v => v.ValueKind switch
        {
            JsonValueKind.String => v.GetString()!,
            JsonValueKind.Number => v.GetRawText(),
            _ => throw MlflowException.InvalidParameter($"Invalid value {v.GetRawText()} in '{name}': a string is expected."),
        })];
    }

    private static IEnumerable<JsonElement> Objects(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Object))
        {
            throw MlflowException.InvalidParameter($"Invalid value for parameter '{name}' supplied: a list of objects is expected.");
        }
        return [.. value.EnumerateArray()];
    }

    private static List<KeyValue> KeyValues(JsonElement body, string name, int maxValue) =>
        [.. Objects(body, name).Select(t => KeyValueOf(t, name.TrimEnd('s'), maxValue))];

    private static KeyValue KeyValueOf(JsonElement item, string what, int maxValue)
    {
        var key = RequiredString(item, "key");
        ValidateKey(key, what);
        var value = OptionalString(item, "value") ?? (what == "param" ? throw MlflowException.Missing("value") : string.Empty);
        if (value.Length > maxValue)
        {
            throw MlflowException.InvalidParameter($"The {what} value for key '{key}' is {value.Length} characters long; at most {maxValue} are allowed.");
        }
        return new KeyValue(key, value);
    }

    private static Metric MetricOf(JsonElement item)
    {
        var key = RequiredString(item, "key");
        ValidateKey(key, "metric");
        var value = RequiredDouble(item, "value");
        var timestamp = OptionalLong(item, "timestamp") ?? throw MlflowException.Missing("timestamp");
        return new Metric(key, value, timestamp, OptionalLong(item, "step") ?? 0);
    }

    /// <summary>MLflow's rule for metric, param and tag names: letters, digits, <c>_ - . / : space</c>, at most 250
    /// characters, no path traversal.</summary>
    private static void ValidateKey(string key, string what)
    {
        if (key.Length > MaxKeyLength)
        {
            throw MlflowException.InvalidParameter($"The {what} name '{key[..32]}...' is {key.Length} characters long; at most {MaxKeyLength} are allowed.");
        }
        if (!KeyPattern().IsMatch(key) || key.StartsWith('/') || key.Split('/').Contains(".."))
        {
            throw MlflowException.InvalidParameter(
                $"Invalid {what} name: '{key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/), and may not start with a slash or contain '..'.");
        }
    }

    [GeneratedRegex(@"^[/\w.\- :]+$")]
    private static partial Regex KeyPattern();

    private static ViewType View(string? value, string name) => value switch
    {
        null or "" or "ACTIVE_ONLY" => ViewType.ActiveOnly,
        "DELETED_ONLY" => ViewType.DeletedOnly,
        "ALL" => ViewType.All,
        _ => throw MlflowException.InvalidParameter($"Invalid value {value} for parameter '{name}' supplied: ACTIVE_ONLY, DELETED_ONLY or ALL."),
    };

    private static string Token(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"offset\": {offset}}}"));

    private static int PageToken(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }
        try
        {
            using var document = JsonDocument.Parse(Convert.FromBase64String(token));
            if (document.RootElement.TryGetProperty("offset", out var offset) && offset.TryGetInt32(out var value) && value >= 0)
            {
                return value;
            }
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
        }
        throw MlflowException.InvalidParameter($"Invalid page token '{token}'.");
    }

    private static readonly string[] Adjectives = ["amber", "bold", "calm", "deft", "eager", "fair", "glad", "keen", "lucid", "merry", "noble", "quick", "sage", "swift", "vivid", "wise"];
    private static readonly string[] Nouns = ["badger", "crane", "dolphin", "falcon", "gecko", "heron", "ibis", "lynx", "marten", "otter", "panda", "quail", "raven", "seal", "tern", "wolf"];

    /// <summary>A readable name for a run created without one, as MLflow gives (adjective-noun-number).</summary>
    private static string RunName() =>
        $"{Adjectives[Random.Shared.Next(Adjectives.Length)]}-{Nouns[Random.Shared.Next(Nouns.Length)]}-{Random.Shared.Next(1000)}";
}
