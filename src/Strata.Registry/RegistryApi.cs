using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Registry;
using Strata.ServiceDefaults;

namespace Strata.Registry;

/// <summary>The Registry module's HTTP API under <c>/api/registry</c>.</summary>
public static class RegistryApi
{
    /// <summary>Largest artifact accepted in one upload (model zips are a few MB).</summary>
    public const long MaxArtifactBytes = 512L * 1024 * 1024;

    public static IEndpointRouteBuilder MapRegistryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(RegistryRoutes.Prefix).InModule(ModuleNames.Registry).WithTags("Registry");

        api.MapPost(RegistryRoutes.Artifacts, PutArtifact).Accepts<Stream>("application/octet-stream")
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxArtifactBytes));
        api.MapGet(RegistryRoutes.Artifact, GetArtifact).Produces(StatusCodes.Status200OK, contentType: "application/octet-stream");
        api.MapGet(RegistryRoutes.Models, async (IRegistryClient registry, CancellationToken ct) => TypedResults.Ok(await registry.ListModelsAsync(ct)));
        api.MapGet(RegistryRoutes.Versions, async (string model, IRegistryClient registry, CancellationToken ct) =>
            TypedResults.Ok(await registry.ListVersionsAsync(model, ct)));
        api.MapPost(RegistryRoutes.Versions, CreateVersion);
        api.MapGet(RegistryRoutes.Version, GetVersion);
        api.MapGet(RegistryRoutes.Alias, GetAlias);
        api.MapPut(RegistryRoutes.Alias, SetAlias);
        api.MapDelete(RegistryRoutes.Alias, async (string model, string alias, IRegistryClient registry, CancellationToken ct) =>
        {
            await registry.DeleteAliasAsync(model, alias, ct);
            return TypedResults.NoContent();
        });
        api.MapGet(RegistryRoutes.Traffic, GetTraffic);
        api.MapPut(RegistryRoutes.Traffic, async (string model, TrafficPolicy? body, IRegistryClient registry, CancellationToken ct) =>
            TypedResults.Ok(await registry.SetTrafficPolicyAsync(model, body ?? throw new InputValidationException("body", "a traffic policy object is required"), ct)))
            .WithSummary("Sets the model's traffic policy (a new version): ordered header rules, a weighted split, sticky assignment, a shadow");
        api.MapDelete(RegistryRoutes.Traffic, async (string model, IRegistryClient registry, CancellationToken ct) =>
            TypedResults.Ok(await registry.SetTrafficPolicyAsync(model, null, ct)))
            .WithSummary("Clears the model's traffic policy (a new version with no policy: the default alias answers every request)");
        var rollouts = app.MapGroup(RolloutRoutes.Prefix).InModule(ModuleNames.Registry).WithTags("Rollouts");
        rollouts.MapPost("", async (RolloutSpec? body, IRolloutsClient service, CancellationToken ct) =>
            {
                var started = await service.StartAsync(body ?? throw new InputValidationException("body", "a rollout spec is required"), ct);
                return TypedResults.Created($"{RolloutRoutes.Prefix}/{started.Id}", started);
            })
            .WithSummary("Starts a rollout: the candidate version takes the steps' share of traffic in turn, each gated on its errors, latency and (optionally) labelled quality");
        rollouts.MapGet("", async (string? model, IRolloutsClient service, CancellationToken ct) => TypedResults.Ok(await service.ListAsync(model, ct)));
        rollouts.MapGet(RolloutRoutes.Rollout, async Task<Results<Ok<Rollout>, ProblemHttpResult>> (string id, IRolloutsClient service, CancellationToken ct) =>
            await service.GetAsync(id, ct) is { } found ? TypedResults.Ok(found) : Problems.NotFound("rollout", id));
        rollouts.MapPost(RolloutRoutes.Action, async (string id, string action, IRolloutsClient service, CancellationToken ct) =>
            TypedResults.Ok(await service.ControlAsync(id, action, ct)))
            .WithSummary("pause, resume or abort a rollout (abort sends every request back to the baseline)");
        var experiments = app.MapGroup(ExperimentRoutes.Prefix).InModule(ModuleNames.Registry).WithTags("Experiments");
        experiments.MapPost("", async (ExperimentSpec? body, IExperimentsClient service, CancellationToken ct) =>
            {
                var started = await service.StartAsync(body ?? throw new InputValidationException("body", "an experiment spec is required"), ct);
                return TypedResults.Created($"{ExperimentRoutes.Prefix}/{started.Id}", started);
            })
            .WithSummary("Starts an A/B experiment: arms (versions) with weights, sticky assignment, a metric from outcomes");
        experiments.MapGet("", async (string? model, IExperimentsClient service, CancellationToken ct) => TypedResults.Ok(await service.ListAsync(model, ct)));
        experiments.MapGet(ExperimentRoutes.Experiment, async Task<Results<Ok<ExperimentResults>, ProblemHttpResult>> (string id, IExperimentsClient service, CancellationToken ct) =>
                await service.GetAsync(id, ct) is { } found ? TypedResults.Ok(found) : Problems.NotFound("experiment", id))
            .WithSummary("An experiment's results: per arm exposures, outcomes, the metric with its interval, the difference from the control with an always-valid interval and p-value; the sample-ratio check");
        experiments.MapPost(ExperimentRoutes.Stop, async (string id, IExperimentsClient service, CancellationToken ct) => TypedResults.Ok(await service.StopAsync(id, ct)));
        api.MapGet(RegistryRoutes.TrafficHistory, async (string model, IRegistryClient registry, CancellationToken ct) =>
            TypedResults.Ok(await registry.GetTrafficHistoryAsync(model, ct)));
        return app;
    }

    private static async Task<Results<Ok<TrafficPolicyVersion>, ProblemHttpResult>> GetTraffic(string model, IRegistryClient registry, CancellationToken ct)
    {
        // No such model is a 404 of its own (thrown); a model that never had a policy is this one.
        var found = await registry.GetTrafficPolicyAsync(model, ct);
        return found is null ? Problems.NotFound("traffic policy", $"{model} (none was ever set: the default alias answers every request)") : TypedResults.Ok(found);
    }

    /// <summary>An empty body (declared or chunked) is refused by the store itself, where every upload path meets.</summary>
    private static async Task<Ok<ArtifactRef>> PutArtifact(HttpRequest request, IRegistryClient registry, CancellationToken ct) =>
        TypedResults.Ok(await registry.PutArtifactAsync(request.Body, ct));

    /// <summary>Streamed from disk after its hash is checked, with range requests (issue 24: three concurrent downloads of
    /// a 300 MB artifact took RSS from 0.9 to 2.5 GB when each was read into memory).</summary>
    private static async Task<FileStreamHttpResult> GetArtifact(string sha256, Artifacts.ArtifactStore artifacts, CancellationToken ct)
    {
        Artifacts.ArtifactStore.ValidateHash(sha256);
        return TypedResults.Stream(await artifacts.OpenVerifiedAsync(sha256, ct), "application/octet-stream", enableRangeProcessing: true);
    }

    private static async Task<Created<ModelVersion>> CreateVersion(string model, NewModelVersion? body, IRegistryClient registry, CancellationToken ct)
    {
        var created = await registry.CreateVersionAsync(model, body!, ct);
        return TypedResults.Created($"/api/registry/models/{Uri.EscapeDataString(model)}/versions/{created.Version}", created);
    }

    private static async Task<Results<Ok<ModelVersion>, ProblemHttpResult>> GetVersion(string model, string version, IRegistryClient registry, CancellationToken ct)
    {
        var number = ParseVersion(version);
        var found = await registry.GetVersionAsync(model, number, ct);
        return found is null ? Problems.NotFound("model version", $"{model}/{version}") : TypedResults.Ok(found);
    }

    private static async Task<Results<Ok<ModelVersion>, ProblemHttpResult>> GetAlias(string model, string alias, IRegistryClient registry, CancellationToken ct)
    {
        var found = await registry.GetVersionByAliasAsync(model, alias, ct);
        return found is null ? Problems.NotFound("model alias", $"{model}@{alias}") : TypedResults.Ok(found);
    }

    private static async Task<Ok<ModelVersion>> SetAlias(string model, string alias, AliasTarget? body, IRegistryClient registry, CancellationToken ct)
    {
        if (body?.Version is not int version || version < 1)
        {
            throw new InputValidationException("version", "must be a positive integer version number");
        }
        return TypedResults.Ok(await registry.SetAliasAsync(model, alias, version, ct));
    }

    private static int ParseVersion(string version) =>
        int.TryParse(version, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1
            ? n
            : throw new InputValidationException("version", $"'{version}' is not a positive integer version number");
}
