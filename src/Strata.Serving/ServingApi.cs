using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
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
            .WithSummary("The seed's /predict: {\"age\": 35, \"income\": 50000} -> {\"prediction\": p, \"model_version\": \"n\"}");
        var api = app.MapGroup("/api/serving").InModule(ModuleNames.Serving).WithTags("Serving");
        api.MapGet("/status", async (IServingClient serving, CancellationToken ct) => TypedResults.Ok(await serving.GetStatusAsync(ct)));
        app.MapKServeV1Api();
        app.MapOpenInferenceApi();
        return app;
    }

    private static async Task<Ok<PredictionResult>> Predict(HttpRequest request, ServingService serving, CancellationToken ct)
    {
        var model = serving.CurrentOrThrow();
        var inputs = await RequestBody.ReadAllAsync(request, body => InputRowReader.Read(body, model.View.Inputs), ct);
        return TypedResults.Ok(ServingService.Predict(model, inputs));
    }
}
