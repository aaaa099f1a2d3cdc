using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
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
            .WithSummary("The seed's /predict: {\"age\": 35, \"income\": 50000} -> {\"prediction\": p, \"model_version\": \"n\"}; an array of such objects -> {\"predictions\": [...], \"model_version\": \"n\"}");
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
        var rows = await RequestBody.ReadAllAsync(request, body => InputRowReader.ReadBatch(body, model.View.Inputs, out isBatch), ct,
            maxBytes: 16L << 20);
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
