using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Training;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Security;
using Strata.Training.Jobs;

namespace Strata.Training;

/// <summary>The Training module's HTTP API: training jobs (<c>/api/training/jobs</c>: submit, list, show, cancel),
/// <c>/api/training/train</c> (train and wait) and the seed's <c>POST /train</c>.</summary>
public static class TrainingApi
{
    public static IEndpointRouteBuilder MapTrainingApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(TrainingRoutes.Prefix).InModule(ModuleNames.Training).WithTags("Training");
        api.MapPost(TrainingRoutes.Train, async (TrainingRequest? request, ITrainingClient training, HttpContext context, CancellationToken ct) =>
            TypedResults.Ok(await training.TrainAsync(MayPromote(context, request ?? throw new InputValidationException("body", "is required")), ct)))
            .WithSummary("Train on a dataset version through a feature view, register the version, move the alias");

        api.MapPost(TrainingRoutes.Jobs, (TrainingRequest? request, TrainingJobs jobs, HttpContext context) =>
        {
            var job = jobs.Submit(MayPromote(context, request ?? throw new InputValidationException("body", "is required")));
            return TypedResults.Accepted($"/api/training/jobs/{job.Id}", job);
        }).WithSummary("Queue a training job: 202 with the job; poll it for state, progress and log");
        api.MapGet(TrainingRoutes.Jobs, (TrainingJobs jobs, string? state, string? limit) =>
        {
            if (state is not null && !TrainingJobStates.All.Contains(state))
            {
                throw new InputValidationException("state", $"must be one of {string.Join(", ", TrainingJobStates.All)}");
            }
            var count = 100;
            if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out count) || count is < 1 or > 1000))
            {
                throw new InputValidationException("limit", "must be a whole number between 1 and 1000");
            }
            return TypedResults.Ok(jobs.List(state, count));
        }).WithSummary("Training jobs, newest first (optionally in one state)");
        api.MapGet(TrainingRoutes.Job, (string id, TrainingJobs jobs) =>
            TypedResults.Ok(jobs.Get(id) ?? throw new ResourceNotFoundException("training job", id)))
            .WithSummary("A training job: state, progress, stage, log, result or error");
        api.MapDelete(TrainingRoutes.Job, (string id, TrainingJobs jobs) => TypedResults.Accepted($"/api/training/jobs/{id}", jobs.Cancel(id)))
            .WithSummary("Cancel a job: a queued one at once, a running one within a tree or iteration of its fit (409 when it already ended)");

        // The seed's monolith endpoint: train on the newest 'seed' dataset, register, move 'champion'.
        app.MapPost(TrainingRoutes.SeedTrain, Seed).InModule(ModuleNames.Training).WithTags("Training")
            .WithSummary("The seed's /train: retrain on the current dataset and make the result champion");
        return app;
    }

    /// <summary>Training registers a version; moving an alias onto it is a promotion, which needs manage-models (a trainer
    /// trains with <c>alias</c> null or empty, and a model admin promotes).</summary>
    private static TrainingRequest MayPromote(HttpContext context, TrainingRequest request)
    {
        if (!string.IsNullOrEmpty(request.Alias) && !StrataClaims.PermissionsOf(context.User).HasFlag(Permissions.ManageModels))
        {
            throw new AccessDeniedException(true,
                $"alias: moving '{request.Alias}' onto the new version needs the permission manage-models; send \"alias\": null to train and register without promoting");
        }
        return request;
    }

    private static async Task<Ok<TrainingResult>> Seed(ITrainingClient training, CancellationToken ct) =>
        TypedResults.Ok(await training.TrainAsync(new TrainingRequest(), ct));
}
