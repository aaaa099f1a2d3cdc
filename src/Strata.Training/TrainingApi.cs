using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Training;
using Strata.ServiceDefaults;

namespace Strata.Training;

/// <summary>The Training module's HTTP API: <c>/api/training/train</c> and the seed's <c>POST /train</c>.</summary>
public static class TrainingApi
{
    public static IEndpointRouteBuilder MapTrainingApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/training").InModule(ModuleNames.Training).WithTags("Training");
        api.MapPost("/train", async (TrainingRequest? request, ITrainingClient training, CancellationToken ct) =>
            TypedResults.Ok(await training.TrainAsync(request ?? throw new InputValidationException("body", "is required"), ct)))
            .WithSummary("Train on a dataset version through a feature view, register the version, move the alias");

        // The seed's monolith endpoint: train on the newest 'seed' dataset, register, move 'champion'.
        app.MapPost("/train", Seed).InModule(ModuleNames.Training).WithTags("Training")
            .WithSummary("The seed's /train: retrain on the current dataset and make the result champion");
        return app;
    }

    private static async Task<Ok<TrainingResult>> Seed(ITrainingClient training, CancellationToken ct) =>
        TypedResults.Ok(await training.TrainAsync(new TrainingRequest(), ct));
}
