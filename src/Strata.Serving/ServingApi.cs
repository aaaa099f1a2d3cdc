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
        app.MapPost("/predict", Predict).InModule(ModuleNames.Serving).WithTags("Serving")
            .Accepts<Dictionary<string, double>>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .Produces<PredictionResult>().Produces<BatchPredictionResult>()
            .WithSummary("The seed's /predict: {\"age\": 35, \"income\": 50000} -> {\"prediction\": p, \"model_version\": \"n\"}; an array of such objects -> {\"predictions\": [...], \"model_version\": \"n\"}; or entity keys only ({\"user_id\": 7}): the features come from the feature store");
        var api = app.MapGroup("/api/serving").InModule(ModuleNames.Serving).WithTags("Serving");
        api.MapGet("/status", async (IServingClient serving, CancellationToken ct) => TypedResults.Ok(await serving.GetStatusAsync(ct)));
        app.MapKServeV1Api();
        app.MapOpenInferenceApi();
        return app;
    }

    /// <summary>One object gives one prediction; an array of objects (the batch form) gives <c>predictions</c> in order.</summary>
    private static async Task<IResult> Predict(HttpRequest request, ServingService serving, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var traceId = request.HttpContext.TraceIdentifier;
        var model = serving.CurrentOrThrow();
        var isBatch = false;
        byte[]? body = null;
        List<double[]> rows;
        try
        {
            rows = await RequestBody.ReadAllAsync(request, json =>
            {
                try
                {
                    return InputRowReader.ReadBatch(json, model.View.Inputs, out isBatch);
                }
                catch (InputValidationException) when (model.View.Sources is { Count: > 0 })
                {
                    body = System.Buffers.BuffersExtensions.ToArray(json);
                    throw;
                }
            }, ct, maxBytes: 16L << 20);
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
            var (scored, batch) = await featureAware.PredictAsync(model, sequence, joinKeys, started, traceId, ct);
            return batch ? TypedResults.Ok(new BatchPredictionResult(scored, model.VersionText)) : TypedResults.Ok(new PredictionResult(scored[0], model.VersionText));
        }
        if (!isBatch)
        {
            return TypedResults.Ok(serving.Predict(model, rows[0], started, traceId));
        }
        var predictions = new double[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            try
            {
                predictions[r] = serving.Predict(model, rows[r], started, traceId).Prediction;
            }
            catch (InputValidationException e)
            {
                throw new InputValidationException($"[{r}].{e.Field}", e.Reason);
            }
        }
        return TypedResults.Ok(new BatchPredictionResult(predictions, model.VersionText));
    }
}
