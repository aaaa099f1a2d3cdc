using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts.Errors;
using Strata.Contracts.Registry;
using Strata.Contracts.Tracking;
using Strata.Registry.Storage;

namespace Strata.Registry.Tracking;

/// <summary>MLflow's model registry calls on Strata's registry: <c>registered-models</c> (<c>create</c>, <c>get</c>,
/// <c>search</c>, <c>alias</c> set, get and delete, tags) and <c>model-versions</c> (<c>create</c> from a run,
/// <c>get</c>, <c>search</c>, tags). Versions are numbered, aliased and announced (<c>model.registered</c>,
/// <c>model.alias_changed</c>) exactly as through Strata's own API; MLflow's shape on the wire (version numbers as
/// strings, status READY).</summary>
public static partial class MlflowApi
{
    /// <summary>MLflow's limit on a registered model's or version's tag value.</summary>
    private const int MaxRegistryTagValue = 5000;

    private static void MapModelRegistry(RouteGroupBuilder api)
    {
        api.MapPost(MlflowRoutes.RegisteredModelsCreate, CreateRegisteredModel);
        api.MapGet(MlflowRoutes.RegisteredModelsGet, GetRegisteredModel);
        api.MapGet(MlflowRoutes.RegisteredModelsSearch, SearchRegisteredModels);
        api.MapPost(MlflowRoutes.RegisteredModelsAlias, SetAlias);
        api.MapDelete(MlflowRoutes.RegisteredModelsAlias, DeleteAlias);
        api.MapGet(MlflowRoutes.RegisteredModelsAlias, GetVersionByAlias);
        api.MapPost(MlflowRoutes.RegisteredModelsSetTag, SetRegisteredModelTag);
        api.MapDelete(MlflowRoutes.RegisteredModelsDeleteTag, DeleteRegisteredModelTag);
        api.MapPost(MlflowRoutes.ModelVersionsSetTag, SetModelVersionTag);
        api.MapDelete(MlflowRoutes.ModelVersionsDeleteTag, DeleteModelVersionTag);
        api.MapPost(MlflowRoutes.ModelVersionsCreate, CreateModelVersion);
        api.MapGet(MlflowRoutes.ModelVersionsGet, GetModelVersion);
        api.MapGet(MlflowRoutes.ModelVersionsSearch, SearchModelVersions);
        api.MapPost(MlflowRoutes.ModelVersionsTransitionStage, TransitionStage);
        api.MapPatch(MlflowRoutes.ModelVersionsUpdate, UpdateModelVersion);
        api.MapDelete(MlflowRoutes.ModelVersionsDelete, DeleteModelVersion);
        api.MapDelete(MlflowRoutes.RegisteredModelsDelete, DeleteRegisteredModel);
        api.MapPatch(MlflowRoutes.RegisteredModelsUpdate, UpdateRegisteredModel);
        api.MapPost(MlflowRoutes.RegisteredModelsRename, RenameRegisteredModel);
        api.MapGet(MlflowRoutes.ModelVersionsGetDownloadUri, GetDownloadUri);
        api.MapPost(MlflowRoutes.RegisteredModelsGetLatestVersions, GetLatestVersions);
        api.MapGet(MlflowRoutes.RegisteredModelsGetLatestVersions, GetLatestVersionsByQuery);
    }

    /// <summary>MLflow's stages (its clients still move versions between them), kept as the version's reserved tag
    /// <see cref="StageTag"/>, not listed among its tags.</summary>
    public static IReadOnlyList<string> Stages { get; } = ["None", "Staging", "Production", "Archived"];

    public const string StageTag = "mlflow.current_stage";

    private static string StageOf(ModelVersion v) => v.Tags?.GetValueOrDefault(StageTag) ?? "None";

    public static async Task<Ok<ModelVersionResponse>> TransitionStage(TransitionStageRequest request, IRegistryClient registry, IRegistryStore store, CancellationToken ct)
    {
        var name = Required(request.Name, "name");
        var number = VersionNumber(Required(request.Version, "version"));
        var given = Required(request.Stage, "stage");
        var stage = Stages.FirstOrDefault(s => string.Equals(s, given, StringComparison.OrdinalIgnoreCase))
            ?? throw new InputValidationException("stage", $"'{given}' is not a stage ({string.Join(", ", Stages)})");
        var version = await registry.GetVersionAsync(name, number, ct) ?? throw new ResourceNotFoundException("model version", $"{name}/{number}");
        if (request.ArchiveExistingVersions == true && stage is "Staging" or "Production")
        {
            foreach (var other in (await registry.ListVersionsAsync(name, ct)).Where(v => v.Version != number && StageOf(v) == stage))
            {
                await store.SetTagAsync(name, other.Version, StageTag, "Archived", ct);
            }
        }
        await store.SetTagAsync(name, number, StageTag, stage == "None" ? null : stage, ct);
        return TypedResults.Ok(new ModelVersionResponse(MlflowVersion((await registry.GetVersionAsync(name, version.Version, ct))!)));
    }

    public static async Task<Ok<EmptyResponse>> DeleteModelVersion(HttpRequest request, [FromQuery] string? name, [FromQuery] string? version,
        RegistryService registry, CancellationToken ct)
    {
        var body = await DeleteTargetAsync(request, ct);
        await registry.DeleteAsync(Required(body?.Name ?? name, "name"), VersionNumber(Required(body?.Version ?? version, "version")), ct);
        return Empty;
    }

    public static async Task<Ok<EmptyResponse>> DeleteRegisteredModel(HttpRequest request, [FromQuery] string? name, RegistryService registry, CancellationToken ct)
    {
        var body = await DeleteTargetAsync(request, ct);
        await registry.DeleteAsync(Required(body?.Name ?? name, "name"), null, ct);
        return Empty;
    }

    public static async Task<Ok<RegisteredModelResponse>> UpdateRegisteredModel(UpdateRegisteredModelRequest request, IRegistryClient registry, IRegistryStore store,
        CancellationToken ct)
    {
        var name = Required(request.Name, "name");
        CheckDescription(request.Description);
        if (!await store.SetDescriptionAsync(name, null, request.Description, ct))
        {
            throw new ResourceNotFoundException("registered model", name);
        }
        return TypedResults.Ok(new RegisteredModelResponse(await RegisteredModelAsync(registry, name, ct)));
    }

    public static async Task<Ok<RegisteredModelResponse>> RenameRegisteredModel(RenameRegisteredModelRequest request, RegistryService service, IRegistryClient registry,
        CancellationToken ct)
    {
        var name = Required(request.Name, "name");
        var newName = Required(request.NewName, "new_name");
        await service.RenameAsync(name, newName, ct);
        return TypedResults.Ok(new RegisteredModelResponse(await RegisteredModelAsync(registry, newName, ct)));
    }

    private static void CheckDescription(string? description)
    {
        if (description is { Length: > 5000 } || description?.Contains('\0', StringComparison.Ordinal) == true)
        {
            throw new InputValidationException("description", "must be at most 5000 characters, without NUL");
        }
    }

    public static async Task<Ok<ModelVersionResponse>> UpdateModelVersion(UpdateModelVersionRequest request, IRegistryClient registry, IRegistryStore store, CancellationToken ct)
    {
        var name = Required(request.Name, "name");
        var number = VersionNumber(Required(request.Version, "version"));
        CheckDescription(request.Description);
        if (!await store.SetDescriptionAsync(name, number, request.Description, ct))
        {
            throw new ResourceNotFoundException("model version", $"{name}/{number}");
        }
        return TypedResults.Ok(new ModelVersionResponse(MlflowVersion((await registry.GetVersionAsync(name, number, ct))!)));
    }

    /// <summary>Where the version's files are: its run's model folder on the artifacts service when it was logged there,
    /// otherwise its source.</summary>
    public static async Task<Ok<DownloadUriResponse>> GetDownloadUri([FromQuery] string? name, [FromQuery] string? version, IRegistryClient registry, CancellationToken ct)
    {
        var model = Required(name, "name");
        var number = VersionNumber(Required(version, "version"));
        var found = await registry.GetVersionAsync(model, number, ct) ?? throw new ResourceNotFoundException("model version", $"{model}/{number}");
        return TypedResults.Ok(new DownloadUriResponse(MlflowVersion(found).Source));
    }

    public static Task<Ok<ModelVersionsList>> GetLatestVersions(GetLatestVersionsRequest request, IRegistryClient registry, CancellationToken ct) =>
        LatestVersionsAsync(request.Name, request.Stages, registry, ct);

    public static Task<Ok<ModelVersionsList>> GetLatestVersionsByQuery([FromQuery] string? name, [FromQuery] string[]? stages, IRegistryClient registry, CancellationToken ct) =>
        LatestVersionsAsync(name, stages, registry, ct);

    /// <summary>The newest version in each stage asked for (every stage when none is).</summary>
    private static async Task<Ok<ModelVersionsList>> LatestVersionsAsync(string? name, IReadOnlyList<string>? stages, IRegistryClient registry, CancellationToken ct)
    {
        var model = Required(name, "name");
        var wanted = (stages ?? []).Select(s => Stages.FirstOrDefault(x => string.Equals(x, s, StringComparison.OrdinalIgnoreCase))
            ?? throw new InputValidationException("stages", $"'{s}' is not a stage ({string.Join(", ", Stages)})")).ToList();
        if (!(await registry.ListModelsAsync(ct)).Any(m => m.Name == model))
        {
            throw new ResourceNotFoundException("registered model", model);
        }
        var latest = (await registry.ListVersionsAsync(model, ct)).GroupBy(StageOf)
            .Where(g => wanted.Count == 0 || wanted.Contains(g.Key))
            .Select(g => g.MaxBy(v => v.Version)!).OrderBy(v => v.Version).Select(MlflowVersion).ToList();
        return TypedResults.Ok(new ModelVersionsList(latest));
    }

    public static async Task<Ok<RegisteredModelResponse>> CreateRegisteredModel(CreateRegisteredModelRequest request, IRegistryStore store, IRegistryClient registry,
        TimeProvider time, CancellationToken ct)
    {
        var name = Required(request.Name, "name");
        AliasName.ValidateModelName(name);
        var tags = KeyValues(request.Tags, "tag", MaxRegistryTagValue, "tags"); // checked before anything is written
        if (!await store.CreateModelAsync(name, time.GetUtcNow(), ct))
        {
            throw new ResourceConflictException($"registered model '{name}' already exists");
        }
        foreach (var tag in tags)
        {
            await store.SetTagAsync(name, null, tag.Key, tag.Value, ct);
        }
        return TypedResults.Ok(new RegisteredModelResponse(await RegisteredModelAsync(registry, name, ct)));
    }

    public static async Task<Ok<RegisteredModelResponse>> GetRegisteredModel([FromQuery] string? name, IRegistryClient registry, CancellationToken ct) =>
        TypedResults.Ok(new RegisteredModelResponse(await RegisteredModelAsync(registry, Required(name, "name"), ct)));

    public static async Task<Ok<RegisteredModelsPage>> SearchRegisteredModels([FromQuery] string? filter, [FromQuery(Name = "order_by")] string[]? orderBy,
        [FromQuery(Name = "max_results")] string? maxResults, [FromQuery(Name = "page_token")] string? pageToken, IRegistryClient registry, CancellationToken ct)
    {
        var max = QueryMaxResults(maxResults, 100, 1000);
        var offset = PageToken(pageToken);
        var clauses = SearchFilter.ParseModels(filter);
        var orders = SearchFilter.ParseModelOrder(orderBy ?? []);
        var matching = (await registry.ListModelsAsync(ct)).Where(m => clauses.All(c => SearchFilter.Matches(c, m.Name))).ToList();
        IEnumerable<RegisteredModel> ordered = orders.Count == 0 ? matching.OrderBy(m => m.Name, StringComparer.Ordinal)
            : orders[0] switch
            {
                { Key: "name", Descending: true } => matching.OrderByDescending(m => m.Name, StringComparer.Ordinal),
                { Key: "name" } => matching.OrderBy(m => m.Name, StringComparer.Ordinal),
                { Descending: true } => matching.OrderByDescending(m => m.CreatedAt).ThenBy(m => m.Name, StringComparer.Ordinal),
                _ => matching.OrderBy(m => m.CreatedAt).ThenBy(m => m.Name, StringComparer.Ordinal),
            };
        var page = ordered.Skip(offset).Take(max + 1).ToList();
        var models = new List<MlflowRegisteredModel>();
        foreach (var model in page.Take(max))
        {
            models.Add(await RegisteredModelAsync(registry, model, ct));
        }
        return TypedResults.Ok(new RegisteredModelsPage(models, page.Count > max ? Token(offset + max) : null));
    }

    public static async Task<Ok<EmptyResponse>> SetAlias(SetAliasRequest request, IRegistryClient registry, CancellationToken ct)
    {
        var name = Required(request.Name, "name");
        var alias = Required(request.Alias, "alias");
        var version = VersionNumber(Required(request.Version, "version"));
        await registry.SetAliasAsync(name, alias, version, ct);
        return Empty;
    }

    /// <summary>MLflow's clients send DELETE parameters as a JSON body; a query string is taken too.</summary>
    public static async Task<Ok<EmptyResponse>> DeleteAlias(HttpRequest request, [FromQuery] string? name, [FromQuery] string? alias,
        IRegistryClient registry, CancellationToken ct)
    {
        var body = await DeleteTargetAsync(request, ct);
        await registry.DeleteAliasAsync(Required(body?.Name ?? name, "name"), Required(body?.Alias ?? alias, "alias"), ct);
        return Empty;
    }

    public static async Task<Ok<ModelVersionResponse>> GetVersionByAlias([FromQuery] string? name, [FromQuery] string? alias, IRegistryClient registry,
        CancellationToken ct)
    {
        var model = Required(name, "name");
        var aliasName = Required(alias, "alias");
        var version = await registry.GetVersionByAliasAsync(model, aliasName, ct) ?? throw new ResourceNotFoundException("alias", $"{model}@{aliasName}");
        return TypedResults.Ok(new ModelVersionResponse(MlflowVersion(version)));
    }

    // Tags of registered models and of versions: set (POST, body) and delete (DELETE, body or query), as MLflow's.

    public static async Task<Ok<EmptyResponse>> SetRegisteredModelTag(SetRegistryTagRequest request, IRegistryStore store, CancellationToken ct)
    {
        var name = Required(request.Name, "name");
        var tag = KeyValueOf(request.Key, request.Value, "tag", MaxRegistryTagValue, "");
        return await store.SetTagAsync(name, null, tag.Key, tag.Value, ct) ? Empty : throw new ResourceNotFoundException("registered model", name);
    }

    public static async Task<Ok<EmptyResponse>> DeleteRegisteredModelTag(HttpRequest request, [FromQuery] string? name, [FromQuery] string? key,
        IRegistryStore store, CancellationToken ct)
    {
        var body = await DeleteTargetAsync(request, ct);
        var model = Required(body?.Name ?? name, "name");
        var tag = Required(body?.Key ?? key, "key");
        return await store.SetTagAsync(model, null, tag, null, ct) ? Empty : throw new ResourceNotFoundException("registered model tag", $"{model}/{tag}");
    }

    public static async Task<Ok<EmptyResponse>> SetModelVersionTag(SetRegistryTagRequest request, IRegistryStore store, CancellationToken ct)
    {
        var name = Required(request.Name, "name");
        var number = VersionNumber(Required(request.Version, "version"));
        var tag = KeyValueOf(request.Key, request.Value, "tag", MaxRegistryTagValue, "");
        return await store.SetTagAsync(name, number, tag.Key, tag.Value, ct) ? Empty : throw new ResourceNotFoundException("model version", $"{name}/{number}");
    }

    public static async Task<Ok<EmptyResponse>> DeleteModelVersionTag(HttpRequest request, [FromQuery] string? name, [FromQuery] string? version,
        [FromQuery] string? key, IRegistryStore store, CancellationToken ct)
    {
        var body = await DeleteTargetAsync(request, ct);
        var model = Required(body?.Name ?? name, "name");
        var number = VersionNumber(Required(body?.Version ?? version, "version"));
        var tag = Required(body?.Key ?? key, "key");
        return await store.SetTagAsync(model, number, tag, null, ct) ? Empty : throw new ResourceNotFoundException("model version tag", $"{model}/{number}/{tag}");
    }

    public static async Task<Ok<ModelVersionResponse>> CreateModelVersion(CreateModelVersionRequest request, MlflowModelSources sources, IRegistryClient registry,
        IRegistryStore store, CancellationToken ct)
    {
        var name = Required(request.Name, "name");
        var versionTags = KeyValues(request.Tags, "tag", MaxRegistryTagValue, "tags");
        var source = Required(request.Source, "source");
        var (version, runId) = await sources.ResolveAsync(source, string.IsNullOrEmpty(request.RunId) ? null : request.RunId, request.Description, ct);
        var created = await registry.CreateVersionAsync(name, version with { RunId = runId }, ct);
        foreach (var tag in versionTags)
        {
            await store.SetTagAsync(name, created.Version, tag.Key, tag.Value, ct);
        }
        if (versionTags.Count > 0)
        {
            created = (await registry.GetVersionAsync(name, created.Version, ct))!;
        }
        return TypedResults.Ok(new ModelVersionResponse(MlflowVersion(created)));
    }

    public static async Task<Ok<ModelVersionResponse>> GetModelVersion([FromQuery] string? name, [FromQuery] string? version, IRegistryClient registry,
        CancellationToken ct)
    {
        var model = Required(name, "name");
        var number = VersionNumber(Required(version, "version"));
        var found = await registry.GetVersionAsync(model, number, ct) ?? throw new ResourceNotFoundException("model version", $"{model}/{number}");
        return TypedResults.Ok(new ModelVersionResponse(MlflowVersion(found)));
    }

    public static async Task<Ok<ModelVersionsPage>> SearchModelVersions([FromQuery] string? filter, [FromQuery(Name = "max_results")] string? maxResults,
        [FromQuery(Name = "page_token")] string? pageToken, IRegistryClient registry, CancellationToken ct)
    {
        var max = QueryMaxResults(maxResults, 200_000, 200_000);
        var offset = PageToken(pageToken);
        var clauses = SearchFilter.ParseVersions(filter);
        var models = clauses.FirstOrDefault(c => c.Key == "name" && c.Op == "=") is { } exact
            ? [(string)exact.Value]
            : (await registry.ListModelsAsync(ct)).Select(m => m.Name).ToList();
        var versions = new List<ModelVersion>();
        foreach (var model in models)
        {
            try
            {
                versions.AddRange(await registry.ListVersionsAsync(model, ct));
            }
            catch (Exception e) when (e is ResourceNotFoundException or InputValidationException)
            {
                // No such model: nothing of it matches.
            }
        }
        var matching = versions.Where(v => clauses.All(c => SearchFilter.Matches(c, c.Key switch
        {
            "name" => v.Model,
            "run_id" => v.RunId ?? string.Empty,
            _ => v.Version.ToString(CultureInfo.InvariantCulture),
        }))).OrderBy(v => v.Model, StringComparer.Ordinal).ThenByDescending(v => v.Version).ToList();
        var page = matching.Skip(offset).Take(max + 1).ToList();
        return TypedResults.Ok(new ModelVersionsPage([.. page.Take(max).Select(MlflowVersion)], page.Count > max ? Token(offset + max) : null));
    }

    /// <summary>A DELETE call's JSON body when it has one (MLflow's clients send their parameters so), else null.</summary>
    private static async Task<DeleteTargetRequest?> DeleteTargetAsync(HttpRequest request, CancellationToken ct) =>
        request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0
            ? !request.HasJsonContentType() ? throw new InputValidationException("content-type", $"'{request.ContentType}' is not JSON")
            : await request.ReadFromJsonAsync<DeleteTargetRequest>(ct) ?? throw new InputValidationException("body", "a JSON object is expected")
            : null;

    private static int VersionNumber(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= 1
            ? number
            : throw new InputValidationException("version", $"'{text}' is not a version number (1, 2, ...)");

    private static async Task<MlflowRegisteredModel> RegisteredModelAsync(IRegistryClient registry, string name, CancellationToken ct) =>
        await RegisteredModelAsync(registry, (await registry.ListModelsAsync(ct)).FirstOrDefault(m => m.Name == name)
            ?? throw new ResourceNotFoundException("registered model", name), ct);

    /// <summary>A model in MLflow's shape (its versions read once, for the latest).</summary>
    private static async Task<MlflowRegisteredModel> RegisteredModelAsync(IRegistryClient registry, RegisteredModel model, CancellationToken ct)
    {
        var versions = model.LatestVersion == 0 ? [] : await registry.ListVersionsAsync(model.Name, ct);
        var created = model.CreatedAt.ToUnixTimeMilliseconds();
        return new MlflowRegisteredModel(
            model.Name,
            created,
            versions.Count == 0 ? created : versions.Max(v => v.CreatedAt).ToUnixTimeMilliseconds(),
            versions.Count == 0 ? null : [MlflowVersion(versions.MaxBy(v => v.Version)!)],
            [.. model.Aliases.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => new MlflowAlias(a.Key, a.Value.ToString(CultureInfo.InvariantCulture)))],
            Tags(model.Tags),
            model.Description);
    }

    private static MlflowModelVersion MlflowVersion(ModelVersion v) => new(
        v.Model,
        v.Version.ToString(CultureInfo.InvariantCulture),
        v.CreatedAt.ToUnixTimeMilliseconds(),
        v.CreatedAt.ToUnixTimeMilliseconds(),
        StageOf(v),
        v.Description,
        v.Params.GetValueOrDefault(ModelFormats.Source) ?? (v.RunId is null ? $"strata-artifacts:/sha256/{v.ArtifactSha256}" : $"runs:/{v.RunId}/model"),
        v.RunId,
        "READY",
        v.Aliases,
        Tags(v.Tags?.Where(t => t.Key != StageTag).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal)));

    private static List<KeyValue>? Tags(IReadOnlyDictionary<string, string>? tags) => tags?.Select(t => new KeyValue(t.Key, t.Value)).ToList();
}
