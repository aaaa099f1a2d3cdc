using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.ServiceDefaults;

namespace Strata.Features;

/// <summary>The Features module's HTTP API under <c>/api/features</c>: definitions, and Feast's feature-server
/// operations (<c>get-online-features</c>, <c>push</c>, <c>materialize</c>, <c>materialize-incremental</c>) plus
/// point-in-time retrieval (<c>historical</c>).</summary>
public static class FeaturesApi
{
    /// <summary>Pushes and historical requests may carry up to this many bytes of rows.</summary>
    public const long MaxBodyBytes = 256L << 20;

    public static IEndpointRouteBuilder MapFeaturesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(FeaturesRoutes.Prefix).InModule(ModuleNames.Features).WithTags("Features");
        api.MapGet(FeaturesRoutes.Views, async (IFeaturesClient features, CancellationToken ct) => TypedResults.Ok(await features.ListViewsAsync(ct)))
            .WithSummary("Every feature view (stored, aggregate, on-demand) with its schema");
        api.MapGet(FeaturesRoutes.View, GetView);
        api.MapPost(FeaturesRoutes.Compute, Compute).Accepts<Dictionary<string, double>>("application/json")
            .WithSummary("Apply an on-demand view to one row of named inputs");
        api.MapGet(FeaturesRoutes.Entities, async (IFeaturesClient features, CancellationToken ct) => TypedResults.Ok(await features.ListEntitiesAsync(ct)));
        api.MapGet(FeaturesRoutes.PushSources, async (IFeaturesClient features, CancellationToken ct) => TypedResults.Ok(await features.ListPushSourcesAsync(ct)));
        api.MapGet(FeaturesRoutes.Services, async (IFeaturesClient features, CancellationToken ct) => TypedResults.Ok(await features.ListFeatureServicesAsync(ct)))
            .WithSummary("Every feature service: the features one model consumes");
        api.MapGet(FeaturesRoutes.Service, GetService);
        api.MapPost(FeaturesRoutes.TrainingFrame, async (TrainingFrameRequest? request, IFeaturesClient features, CancellationToken ct) =>
            TypedResults.Ok(await features.BuildTrainingFrameAsync(request ?? throw new InputValidationException("body", "is required"), ct)));
        api.MapPost(FeaturesRoutes.OnlineFeatures, async (OnlineFeaturesRequest? request, IFeaturesClient features, CancellationToken ct) =>
            TypedResults.Ok(await features.GetOnlineFeaturesAsync(request ?? throw new InputValidationException("body", "is required"), ct)))
            .WithSummary("Online feature values for entity rows (Feast shape: one result per feature, across rows)");
        api.MapPost(FeaturesRoutes.Push, async (PushRequest? request, IFeaturesClient features, CancellationToken ct) =>
            TypedResults.Ok(await features.PushAsync(request ?? throw new InputValidationException("body", "is required"), ct)))
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .WithSummary("Write rows of a push source to the online and/or offline store (all or nothing)");
        api.MapPost(FeaturesRoutes.Historical, async (HistoricalFeaturesRequest? request, IFeaturesClient features, CancellationToken ct) =>
            TypedResults.Ok(await features.GetHistoricalFeaturesAsync(request ?? throw new InputValidationException("body", "is required"), ct)))
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .WithSummary("Point-in-time correct features for entity rows, inline or written as a dataset version");
        api.MapPost(FeaturesRoutes.Materialize, async (MaterializeRequest? request, IFeaturesClient features, CancellationToken ct) =>
            TypedResults.Ok(await features.MaterializeAsync(request ?? throw new InputValidationException("body", "is required"), ct)))
            .WithSummary("Copy the latest values in [start_ts, end_ts] from the offline to the online store; 409 while the view is being materialised");
        api.MapPost(FeaturesRoutes.MaterializeIncremental, async (MaterializeIncrementalRequest? request, IFeaturesClient features, CancellationToken ct) =>
            TypedResults.Ok(await features.MaterializeIncrementalAsync(request ?? throw new InputValidationException("body", "is required"), ct)))
            .WithSummary("Materialise from where the last run ended up to end_ts");
        return app;
    }

    private static async Task<Results<Ok<FeatureViewInfo>, ProblemHttpResult>> GetView(string name, IFeaturesClient features, CancellationToken ct) =>
        await features.GetViewAsync(name, ct) is { } view ? TypedResults.Ok(view) : Problems.NotFound("feature view", name);

    private static async Task<Results<Ok<FeatureServiceInfo>, ProblemHttpResult>> GetService(string name, IFeaturesClient features, CancellationToken ct) =>
        (await features.ListFeatureServicesAsync(ct)).FirstOrDefault(s => s.Name == name) is { } service
            ? TypedResults.Ok(service)
            : Problems.NotFound("feature service", name);

    private static async Task<Ok<ComputedFeatures>> Compute(string name, HttpRequest request, IFeaturesClient features, CancellationToken ct)
    {
        var view = await features.GetViewAsync(name, ct) ?? throw new ResourceNotFoundException("feature view", name);
        if (view.Kind != FeatureViewKinds.OnDemand)
        {
            throw new InputValidationException("name", $"'{name}' is a {view.Kind} view; only on-demand views compute from inputs");
        }
        var inputs = await RequestBody.ReadAllAsync(request, body => InputRowReader.Read(body, view.Inputs), ct);
        var values = await features.ComputeAsync(name, inputs, ct);
        return TypedResults.Ok(new ComputedFeatures(view.Name, view.Version, [.. view.Features.Select(f => f.Name)], values));
    }
}
