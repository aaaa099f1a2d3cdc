using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.ServiceDefaults;

namespace Strata.Features;

/// <summary>The Features module's HTTP API under <c>/api/features</c>.</summary>
public static class FeaturesApi
{
    public static IEndpointRouteBuilder MapFeaturesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/features").InModule(ModuleNames.Features).WithTags("Features");
        api.MapGet("/views", async (IFeaturesClient features, CancellationToken ct) => TypedResults.Ok(await features.ListViewsAsync(ct)));
        api.MapGet("/views/{name}", GetView);
        api.MapPost("/views/{name}/compute", Compute).Accepts<Dictionary<string, double>>("application/json")
            .WithSummary("Apply a view to one row of named inputs");
        api.MapPost("/training-frame", async (TrainingFrameRequest? request, IFeaturesClient features, CancellationToken ct) =>
            TypedResults.Ok(await features.BuildTrainingFrameAsync(request ?? throw new InputValidationException("body", "is required"), ct)));
        return app;
    }

    private static async Task<Results<Ok<FeatureViewInfo>, ProblemHttpResult>> GetView(string name, IFeaturesClient features, CancellationToken ct) =>
        await features.GetViewAsync(name, ct) is { } view ? TypedResults.Ok(view) : Problems.NotFound("feature view", name);

    private static async Task<Ok<ComputedFeatures>> Compute(string name, HttpRequest request, IFeaturesClient features, CancellationToken ct)
    {
        var view = await features.GetViewAsync(name, ct) ?? throw new ResourceNotFoundException("feature view", name);
        var inputs = await RequestBody.ReadAllAsync(request, body => InputRowReader.Read(body, view.Inputs), ct);
        var values = await features.ComputeAsync(name, inputs, ct);
        return TypedResults.Ok(new ComputedFeatures(view.Name, view.Version, [.. view.Features.Select(f => f.Name)], values));
    }
}
