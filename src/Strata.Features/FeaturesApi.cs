using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Features.Definitions;
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
        api.MapGet(FeaturesRoutes.View, GetView)
            .WithSummary("One feature view as the definitions in force declare it, or at ?version=<hash> from any applied version");
        api.MapPost(FeaturesRoutes.Plan, Plan).WithMetadata(new RequestSizeLimitAttribute(MaxDefinitionsBytes))
            .Accepts<ApplyDefinitionsRequest>("application/json", "application/yaml")
            .WithSummary("What applying these definitions would add, change and remove, and which registered models a change breaks");
        api.MapPost(FeaturesRoutes.Apply, Apply).WithMetadata(new RequestSizeLimitAttribute(MaxDefinitionsBytes))
            .Accepts<ApplyDefinitionsRequest>("application/json", "application/yaml")
            .WithSummary("Apply definitions as the next version, all or nothing (409 when a change breaks a registered model, unless force)");
        api.MapGet(FeaturesRoutes.Definitions, (FeatureDefinitions definitions) => TypedResults.Text(definitions.Export().ToJsonString(ExportJson), "application/json"))
            .Produces<System.Text.Json.Nodes.JsonObject>(contentType: "application/json")
            .WithSummary("The definitions in force, in the form apply reads (applying the export again changes nothing)");
        api.MapGet(FeaturesRoutes.DefinitionVersions, (FeatureDefinitions definitions) => TypedResults.Ok(definitions.Versions()))
            .WithSummary("Every applied version of the definitions, newest first");
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

    /// <summary>Definitions bodies are small (a repository of hundreds of views is a few hundred kB).</summary>
    public const long MaxDefinitionsBytes = 8L << 20;

    private static readonly System.Text.Json.JsonSerializerOptions ExportJson = new() { WriteIndented = true };

    private static async Task<Results<Ok<FeatureViewInfo>, ProblemHttpResult>> GetView(string name, string? version, IFeaturesClient features, CancellationToken ct) =>
        await (version is null ? features.GetViewAsync(name, ct) : features.GetViewVersionAsync(name, version, ct)) is { } view
            ? TypedResults.Ok(view)
            : Problems.NotFound("feature view", version is null ? name : $"{name} (version {version})");

    private static Task<Results<Ok<DefinitionsPlan>, ProblemHttpResult>> Plan(HttpRequest request, FeatureDefinitions definitions, CancellationToken ct) =>
        Guarded(request, (set, _) => definitions.PlanAsync(set, ct), ct);

    private static Task<Results<Ok<DefinitionsPlan>, ProblemHttpResult>> Apply(HttpRequest request, FeatureDefinitions definitions, CancellationToken ct) =>
        Guarded(request, (set, body) => definitions.ApplyAsync(set, body.Force, body.Description, ct), ct);

    private static async Task<Results<Ok<DefinitionsPlan>, ProblemHttpResult>> Guarded(HttpRequest request,
        Func<FeatureDefinitionSet, ApplyDefinitionsRequest, Task<DefinitionsPlan>> action, CancellationToken ct)
    {
        try
        {
            var (set, body) = await ReadDefinitionsAsync(request, ct);
            return TypedResults.Ok(await action(set, body));
        }
        catch (InvalidDefinitionsException e)
        {
            return Invalid(e);
        }
    }

    /// <summary>400 naming every error: the first as <c>field</c>/<c>reason</c>, all of them under <c>errors</c>.</summary>
    private static ProblemHttpResult Invalid(InvalidDefinitionsException e)
    {
        var errors = e.Errors;
        var first = errors[0];
        return TypedResults.Problem(title: "Invalid definitions", detail: e.Message, statusCode: StatusCodes.Status400BadRequest,
            extensions: new Dictionary<string, object?>
            {
                ["field"] = string.Join(": ", new[] { first.File, first.Definition, first.Field }.Where(p => p is not null)),
                ["reason"] = first.Reason,
                ["errors"] = errors.Select(x => new Dictionary<string, string?> { ["file"] = x.File, ["definition"] = x.Definition, ["field"] = x.Field, ["reason"] = x.Reason }).ToList(),
            });
    }

    /// <summary>The body as definitions: JSON (<see cref="ApplyDefinitionsRequest"/>: files, or one document) or one
    /// YAML document (<c>application/yaml</c>; then <c>?force=true</c> and <c>?description=</c>).</summary>
    private static async Task<(FeatureDefinitionSet Set, ApplyDefinitionsRequest Body)> ReadDefinitionsAsync(HttpRequest request, CancellationToken ct)
    {
        var type = request.ContentType ?? string.Empty;
        if (type.StartsWith("application/yaml", StringComparison.OrdinalIgnoreCase) || type.StartsWith("application/x-yaml", StringComparison.OrdinalIgnoreCase)
            || type.StartsWith("text/yaml", StringComparison.OrdinalIgnoreCase))
        {
            using var reader = new StreamReader(request.Body);
            var text = await reader.ReadToEndAsync(ct);
            var force = request.Query["force"].ToString() is { Length: > 0 } f
                ? bool.TryParse(f, out var parsed) ? parsed : throw new InputValidationException("force", $"'{f}' is not true or false")
                : false;
            var yamlBody = new ApplyDefinitionsRequest(Force: force, Description: request.Query["description"].ToString() is { Length: > 0 } d ? d : null);
            return (DefinitionReader.Read([new DefinitionFile("body", text)]), yamlBody);
        }
        if (!request.HasJsonContentType())
        {
            throw new BadHttpRequestException($"send definitions as application/json or application/yaml, not '{type}'", StatusCodes.Status415UnsupportedMediaType);
        }
        ApplyDefinitionsRequest body;
        try
        {
            body = await request.ReadFromJsonAsync<ApplyDefinitionsRequest>(StrataJson.Options, ct)
                ?? throw new InputValidationException("body", "is required");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InputValidationException(JsonErrors.Field(e), JsonErrors.Reason(e));
        }
        if ((body.Files is null) == (body.Definitions is null))
        {
            throw new InputValidationException("files", "give files (a list of {name, content}) or definitions (one document), not both or neither");
        }
        if (body.Definitions is { } document)
        {
            return (DefinitionReader.Read("definitions", document), body);
        }
        var files = new List<DefinitionFile>();
        for (var i = 0; i < body.Files!.Count; i++)
        {
            var file = body.Files[i] ?? throw new InputValidationException($"files[{i}]", "is null");
            files.Add(new DefinitionFile(
                string.IsNullOrWhiteSpace(file.Name) ? $"files[{i}]" : file.Name,
                file.Content ?? throw new InputValidationException($"files[{i}].content", "is required")));
        }
        return (DefinitionReader.Read(files), body);
    }

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
