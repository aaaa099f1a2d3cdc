using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Contracts.Serving;
using Strata.ServiceDefaults;
using Strata.Serving.Protocols;

namespace Strata.Serving;

/// <summary>The Serving module's HTTP API: the seed's <c>POST /predict</c> and <c>/api/serving/status</c>.</summary>
public static class ServingApi
{
    public static IEndpointRouteBuilder MapServingApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(ServingRoutes.Predict, Predict).InModule(ModuleNames.Serving).WithTags("Serving")
            .Accepts<Dictionary<string, double>>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .Produces<PredictionResult>().Produces<BatchPredictionResult>()
            .WithSummary("The seed's /predict: {\"age\": 35, \"income\": 50000} -> {\"prediction\": p, \"model_version\": \"n\"}; an array of such objects -> {\"predictions\": [...], \"model_version\": \"n\"}; or entity keys only ({\"user_id\": 7}): the features come from the feature store");
        var api = app.MapGroup(ServingRoutes.Prefix).InModule(ModuleNames.Serving).WithTags("Serving");
        api.MapGet(ServingRoutes.Status, async (IServingClient serving, CancellationToken ct) => TypedResults.Ok(await serving.GetStatusAsync(ct)));
        api.MapGet(ServingRoutes.Traffic, async (string model, IServingClient serving, CancellationToken ct) => TypedResults.Ok(await serving.GetTrafficAsync(model, ct)))
            .WithSummary("The model's traffic in this serving process: the policy in force, requests per arm, the shadow's agreement, score deltas and latencies");
        api.MapPost(ServingRoutes.Feedback, RecordFeedback).Accepts<PredictionFeedback[]>("application/json")
            .Produces<FeedbackAccepted>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status400BadRequest)
            .WithSummary("Outcomes of earlier predictions, by the X-Request-Id they were answered with (and row of a batch): one object or an array of up to 10,000");
        app.MapKServeV1Api();
        app.MapOpenInferenceApi();
        return app;
    }

    private static async Task<IResult> RecordFeedback(HttpRequest request, ServingService serving, CancellationToken ct)
    {
        var items = await RequestBody.ReadAllAsync(request, json =>
        {
            try
            {
                var bytes = json.IsSingleSegment ? json.FirstSpan : System.Buffers.BuffersExtensions.ToArray(json);
                var array = bytes.TrimStart(" \t\r\n"u8) is [(byte)'[', ..];
                return array
                    ? System.Text.Json.JsonSerializer.Deserialize<List<PredictionFeedback>>(bytes, StrataJson.Options) ?? []
                    : [System.Text.Json.JsonSerializer.Deserialize<PredictionFeedback>(bytes, StrataJson.Options)!];
            }
            catch (System.Text.Json.JsonException e)
            {
                throw new InputValidationException(e.Path is { Length: > 1 } path ? path.TrimStart('$', '.') : "body", JsonErrors.Reason(e));
            }
        }, ct, maxBytes: ServingOptions.MaxRequestBytesOf(request));
        var accepted = await serving.RecordFeedbackAsync(items, request.HttpContext.User.Identity?.Name, ct);
        return TypedResults.Json(accepted, StrataJson.Options, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>Explanations are asked for with <c>?explain=true</c> or an <c>"explain": true</c> property of the (single) body object.</summary>
    private static bool WantsExplanation(HttpRequest request, bool inBody)
    {
        if (request.Query.TryGetValue("explain", out var flag))
        {
            return bool.TryParse(flag.ToString(), out var on) ? on : throw new InputValidationException("explain", "must be true or false");
        }
        return inBody;
    }

    /// <summary>The body object's <c>explain</c> property (false when absent); read only when the bytes mention it.</summary>
    private static bool ExplainInBody(System.Buffers.ReadOnlySequence<byte> json)
    {
        var bytes = json.IsSingleSegment ? json.FirstSpan : System.Buffers.BuffersExtensions.ToArray(json);
        if (bytes.IndexOf("\"explain\""u8) < 0)
        {
            return false;
        }
        var reader = new System.Text.Json.Utf8JsonReader(json);
        using var document = System.Text.Json.JsonDocument.ParseValue(ref reader);
        return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && document.RootElement.TryGetProperty("explain", out var explain)
            && (explain.ValueKind is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False
                ? explain.GetBoolean()
                : throw new InputValidationException("explain", "must be true or false"));
    }

    private static double[] Computed(Models.MlNetModel model, double[] row, int r, bool isBatch)
    {
        try
        {
            return model.Features.Compute(row);
        }
        catch (InputValidationException e) when (isBatch)
        {
            throw new InputValidationException($"[{r}].{e.Field}", e.Reason);
        }
    }

    /// <summary>One object gives one prediction; an array of objects (the batch form) gives <c>predictions</c> in order.</summary>
    /// <summary>A body <c>/predict</c> could take: one JSON document, an object (a row) or an array (a batch).</summary>
    private static bool RequireRowsShape(System.Buffers.ReadOnlySequence<byte> json)
    {
        var reader = new System.Text.Json.Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType is not (System.Text.Json.JsonTokenType.StartObject or System.Text.Json.JsonTokenType.StartArray))
            {
                throw new InputValidationException("body", "must be a JSON object (one row) or an array of objects (a batch)");
            }
            var array = reader.TokenType == System.Text.Json.JsonTokenType.StartArray;
            if (array && reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.EndArray)
            {
                throw new InputValidationException("body", "is an empty batch: send at least one row");
            }
            reader.Skip();
            while (array && reader.CurrentDepth > 0 && reader.Read())
            {
                reader.Skip();
            }
            return reader.Read() ? throw new InputValidationException("body", "has content after the JSON document") : true;
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InputValidationException("body", JsonErrors.Reason(e));
        }
    }

    private static async Task<IResult> Predict(HttpRequest request, ServingService serving, Traffic.TrafficRouter traffic, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var traceId = request.HttpContext.TraceIdentifier;
        var requestId = RequestIds.Given(request.HttpContext);
        // With a traffic policy the body may decide the version (a sticky key), so the model is chosen as it is read.
        var policy = traffic.PolicyOf(serving.DefaultModel);
        Traffic.Route route = default;
        byte[]? mirrored = null;
        Models.MlNetModel model = null!;
        var context = new PredictionContext(requestId);
        try
        {
            if (policy is null)
            {
                try
                {
                    model = serving.CurrentOrThrow();
                }
                catch (DependencyUnavailableException)
                {
                    // Bad input is a 400 whether a model is loaded or not: only a well-formed request learns that none is (503).
                    await RequestBody.ReadAllAsync(request, RequireRowsShape, ct, maxBytes: ServingOptions.MaxRequestBytesOf(request));
                    throw;
                }
            }
            var isBatch = false;
            byte[]? body = null;
            var explainInBody = false;
            List<double[]> rows;
            try
            {
                rows = await RequestBody.ReadAllAsync(request, json =>
                {
                    if (policy is not null)
                    {
                        route = policy.Choose(request.Headers, json);
                        context = PredictionContext.Of(request.HttpContext, requestId, policy, route);
                        model = ServingService.ForPredict(route.Model);
                        mirrored = route.Shadow is null ? null : System.Buffers.BuffersExtensions.ToArray(json);
                    }
                    try
                    {
                        var read = InputRowReader.ReadBatch(json, model.View.Inputs, out isBatch);
                        explainInBody = !isBatch && ExplainInBody(json);
                        return read;
                    }
                    catch (InputValidationException) when (model.View.Sources is { Count: > 0 })
                    {
                        body = mirrored ?? System.Buffers.BuffersExtensions.ToArray(json);
                        throw;
                    }
                }, ct, maxBytes: ServingOptions.MaxRequestBytesOf(request));
            }
            catch (InputValidationException) when (body is not null)
            {
                // No inputs, but maybe entity keys: the feature-aware path (only then is the feature store consulted).
                var featureAware = request.HttpContext.RequestServices.GetRequiredService<FeatureAwarePredictor>();
                var joinKeys = await featureAware.JoinKeysAsync(model.View, ct);
                var sequence = new System.Buffers.ReadOnlySequence<byte>(body);
                if (!FeatureAwarePredictor.Carries(sequence, joinKeys))
                {
                    throw;
                }
                var (scored, batch) = await featureAware.PredictAsync(model, sequence, joinKeys, started, traceId, ct, context: context);
                Mirror(traffic, policy, route, mirrored, scored, started);
                request.HttpContext.Response.Headers[OpenInferenceApi.VersionHeader] = model.VersionText;
                return batch ? TypedResults.Ok(new BatchPredictionResult(scored, model.VersionText)) : TypedResults.Ok(new PredictionResult(scored[0], model.VersionText));
            }
            request.HttpContext.Response.Headers[OpenInferenceApi.VersionHeader] = model.VersionText;
            if (WantsExplanation(request, explainInBody))
            {
                if (!model.CanExplain)
                {
                    throw new InputValidationException("explain", $"model '{model.Name}' v{model.VersionText} has no explainer");
                }
                var explained = rows.Select((row, r) => model.ExplainFeatures(Computed(model, row, r, isBatch))).ToList();
                return isBatch
                    ? TypedResults.Ok(new { predictions = explained.Select(e => e.Prediction), explanations = explained, model_version = model.VersionText })
                    : TypedResults.Ok(new { prediction = explained[0].Prediction, explanation = explained[0], model_version = model.VersionText });
            }
            if (!isBatch)
            {
                var single = serving.Predict(model, rows[0], started, traceId, context);
                Mirror(traffic, policy, route, mirrored, [single.Prediction], started);
                return Answer(request.HttpContext.Response, single);
            }
            var predictions = new double[rows.Count];
            for (var r = 0; r < rows.Count; r++)
            {
                try
                {
                    predictions[r] = serving.Predict(model, rows[r], started, traceId, context, r).Prediction;
                }
                catch (InputValidationException e)
                {
                    throw new InputValidationException($"[{r}].{e.Field}", e.Reason);
                }
            }
            Mirror(traffic, policy, route, mirrored, predictions, started);
            return JsonResponse.Write(request.HttpContext.Response, new BatchPredictionResult(predictions, model.VersionText), static (writer, result) =>
            {
                writer.WriteStartObject();
                writer.WriteStartArray("predictions");
                foreach (var p in result.Predictions)
                {
                    WriteNumber(writer, p);
                }
                writer.WriteEndArray();
                writer.WriteString("model_version", result.ModelVersion);
                writer.WriteEndObject();
            });
        }
        catch (Exception e) when (e is not OperationCanceledException && route.Model is { } routed && Reported(serving, routed, context, e, started))
        {
            throw; // never reached: the filter reports and declines
        }
    }

    /// <summary>Reports a routed request that got no prediction (<c>prediction.failed</c>) and lets the error propagate.</summary>
    internal static bool Reported(ServingService serving, Models.ServableModel model, PredictionContext context, Exception error, long started)
    {
        serving.Failed(model, context, error, started);
        return false;
    }

    /// <summary>Sends an answered request to its route's shadow, if it has one (never waiting for it).</summary>
    private static void Mirror(Traffic.TrafficRouter traffic, Traffic.RoutedPolicy? policy, Traffic.Route route, byte[]? body, double[] primary, long started)
    {
        if (policy is not null && route.Shadow is { } shadow && body is not null)
        {
            traffic.MirrorPredict(policy, shadow, body, primary, started);
        }
    }

    /// <summary>A single prediction as <c>{"prediction": p, "model_version": "n"}</c>, with its Content-Length.</summary>
    private static IResult Answer(HttpResponse response, PredictionResult result) =>
        JsonResponse.Write(response, result, static (writer, r) =>
        {
            writer.WriteStartObject();
            writer.WritePropertyName("prediction");
            WriteNumber(writer, r.Prediction);
            writer.WriteString("model_version", r.ModelVersion);
            writer.WriteEndObject();
        });

    /// <summary>As the platform's JSON options write a double: a number, or NaN and the infinities as strings.</summary>
    private static void WriteNumber(System.Text.Json.Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
