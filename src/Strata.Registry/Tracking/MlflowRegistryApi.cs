using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Registry;
using Strata.Contracts.Tracking;
using Strata.Registry.Storage;

namespace Strata.Registry.Tracking;

/// <summary>MLflow's model registry calls on Strata's registry: <c>registered-models</c> (<c>create</c>, <c>get</c>,
/// <c>search</c>, <c>alias</c> set and get) and <c>model-versions</c> (<c>create</c> from a run, <c>get</c>,
/// <c>search</c>). Versions are numbered, aliased and announced (<c>model.registered</c>, <c>model.alias_changed</c>)
/// exactly as through Strata's own API; MLflow's shape on the wire (version numbers as strings, status READY).</summary>
public static partial class MlflowApi
{
    private static void MapModelRegistry(RouteGroupBuilder api)
    {
        api.MapPost(MlflowRoutes.RegisteredModelsCreate, async (HttpRequest request, IRegistryStore store, IRegistryClient registry, TimeProvider time, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var name = RequiredString(body, "name");
            Registry(() => AliasName.ValidateModelName(name));
            var tags = KeyValues(body, "tags", MaxRegistryTagValue); // checked before anything is written
            if (!await store.CreateModelAsync(name, time.GetUtcNow(), ct))
            {
                throw MlflowException.AlreadyExists($"Registered Model (name={name}) already exists.");
            }
            foreach (var tag in tags)
            {
                await store.SetTagAsync(name, null, tag.Key, tag.Value, ct);
            }
            return Ok(new { registered_model = await RegisteredModelAsync(registry, name, ct) });
        });
        api.MapGet(MlflowRoutes.RegisteredModelsGet, async (HttpRequest request, IRegistryClient registry, CancellationToken ct) =>
        {
            var name = RequiredQuery(request, "name");
            return Ok(new { registered_model = await RegisteredModelAsync(registry, name, ct) });
        });
        api.MapGet(MlflowRoutes.RegisteredModelsSearch, async (HttpRequest request, IRegistryClient registry, CancellationToken ct) =>
        {
            var (max, offset) = Paging(request, 100, 1000);
            var filter = SearchFilter.ParseModels(request.Query["filter"].FirstOrDefault());
            var orders = SearchFilter.ParseModelOrder(request.Query["order_by"].Where(o => o is not null).Select(o => o!));
            var models = new List<object>();
            var matching = (await registry.ListModelsAsync(ct)).Where(m => filter.All(c => SearchFilter.Matches(c, m.Name))).ToList();
            IEnumerable<RegisteredModel> ordered = orders.Count == 0 ? matching.OrderBy(m => m.Name, StringComparer.Ordinal)
                : orders[0] switch
                {
                    { Key: "name", Descending: true } => matching.OrderByDescending(m => m.Name, StringComparer.Ordinal),
                    { Key: "name" } => matching.OrderBy(m => m.Name, StringComparer.Ordinal),
                    { Descending: true } => matching.OrderByDescending(m => m.CreatedAt).ThenBy(m => m.Name, StringComparer.Ordinal),
                    _ => matching.OrderBy(m => m.CreatedAt).ThenBy(m => m.Name, StringComparer.Ordinal),
                };
            var page = ordered.Skip(offset).Take(max + 1).ToList();
            foreach (var model in page.Take(max))
            {
                models.Add(await RegisteredModelAsync(registry, model, ct));
            }
            return Ok(new { registered_models = models, next_page_token = page.Count > max ? Token(offset + max) : null });
        });
        api.MapPost(MlflowRoutes.RegisteredModelsAlias, async (HttpRequest request, IRegistryClient registry, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var name = RequiredString(body, "name");
            var alias = RequiredString(body, "alias");
            var version = VersionNumber(RequiredString(body, "version"));
            await Registry(() => registry.SetAliasAsync(name, alias, version, ct));
            return Ok(new { });
        });
        // MLflow's clients send DELETE parameters as a JSON body; a query string is taken too.
        api.MapDelete(MlflowRoutes.RegisteredModelsAlias, async (HttpRequest request, IRegistryClient registry, CancellationToken ct) =>
        {
            string name, alias;
            if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
            {
                var body = await BodyAsync(request, ct);
                (name, alias) = (RequiredString(body, "name"), RequiredString(body, "alias"));
            }
            else
            {
                (name, alias) = (RequiredQuery(request, "name"), RequiredQuery(request, "alias"));
            }
            await Registry(async () =>
            {
                await registry.DeleteAliasAsync(name, alias, ct);
                return true;
            });
            return Ok(new { });
        });
        api.MapGet(MlflowRoutes.RegisteredModelsAlias, async (HttpRequest request, IRegistryClient registry, CancellationToken ct) =>
        {
            var name = RequiredQuery(request, "name");
            var alias = RequiredQuery(request, "alias");
            var version = await Registry(() => registry.GetVersionByAliasAsync(name, alias, ct))
                ?? throw MlflowException.NotFound($"Registered model alias {alias} not found.");
            return Ok(new { model_version = MlflowVersion(version) });
        });

        // Tags of registered models and of versions: set (POST, body) and delete (DELETE, body or query), as MLflow's.
        api.MapPost(MlflowRoutes.RegisteredModelsSetTag, async (HttpRequest request, IRegistryStore store, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var name = RequiredString(body, "name");
            var tag = KeyValueOf(body, "tag", MaxRegistryTagValue);
            return await store.SetTagAsync(name, null, tag.Key, tag.Value, ct) ? Ok(new { })
                : throw MlflowException.NotFound($"Registered Model with name={name} not found");
        });
        api.MapDelete(MlflowRoutes.RegisteredModelsDeleteTag, async (HttpRequest request, IRegistryStore store, CancellationToken ct) =>
        {
            var (name, _, key) = await TagTargetAsync(request, withVersion: false, ct);
            return await store.SetTagAsync(name, null, key, null, ct) ? Ok(new { })
                : throw MlflowException.NotFound($"Registered model tag '{key}' of {name} not found");
        });
        api.MapPost(MlflowRoutes.ModelVersionsSetTag, async (HttpRequest request, IRegistryStore store, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var name = RequiredString(body, "name");
            var number = VersionNumber(RequiredString(body, "version"));
            var tag = KeyValueOf(body, "tag", MaxRegistryTagValue);
            return await store.SetTagAsync(name, number, tag.Key, tag.Value, ct) ? Ok(new { })
                : throw MlflowException.NotFound($"Model Version (name={name}, version={number}) not found");
        });
        api.MapDelete(MlflowRoutes.ModelVersionsDeleteTag, async (HttpRequest request, IRegistryStore store, CancellationToken ct) =>
        {
            var (name, number, key) = await TagTargetAsync(request, withVersion: true, ct);
            return await store.SetTagAsync(name, number, key, null, ct) ? Ok(new { })
                : throw MlflowException.NotFound($"Model version tag '{key}' of {name} version {number} not found");
        });

        api.MapPost(MlflowRoutes.ModelVersionsCreate, async (HttpRequest request, ITrackingStore tracking, IRegistryClient registry, IRegistryStore store, CancellationToken ct) =>
        {
            var body = await BodyAsync(request, ct);
            var name = RequiredString(body, "name");
            var versionTags = KeyValues(body, "tags", MaxRegistryTagValue);
            var source = RequiredString(body, "source");
            var runId = OptionalString(body, "run_id");
            if (source.StartsWith("runs:/", StringComparison.Ordinal))
            {
                var fromSource = source["runs:/".Length..].Split('/')[0];
                if (runId is not null && runId != fromSource)
                {
                    throw MlflowException.InvalidParameter($"run_id '{runId}' and the run in source '{source}' differ.");
                }
                runId = fromSource;
            }
            if (string.IsNullOrEmpty(runId))
            {
                throw MlflowException.InvalidParameter(
                    "Strata registers a version from a tracked run: give source 'runs:/<run_id>/model' (or run_id) of a run that logged a Strata model.");
            }
            var run = await tracking.GetRunAsync(runId, ct) ?? throw MlflowException.NotFound($"Run with id={runId} not found");
            var tags = (run.Data.Tags ?? []).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
            if (!tags.TryGetValue("strata.artifact_sha256", out var sha) || !tags.TryGetValue("strata.feature_names", out var names))
            {
                throw MlflowException.InvalidParameter($"Run {runId} logged no Strata model (tags strata.artifact_sha256 and strata.feature_names are missing).");
            }
            var created = await Registry(() => registry.CreateVersionAsync(name, new NewModelVersion(
                sha,
                tags.GetValueOrDefault("strata.format", ModelFormats.MlNet),
                (run.Data.Metrics ?? []).Where(m => double.IsFinite(m.Value)).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal),
                (run.Data.Params ?? []).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
                tags.GetValueOrDefault("strata.dataset_version"),
                tags.GetValueOrDefault("strata.feature_view"),
                tags.GetValueOrDefault("strata.feature_view_version"),
                JsonSerializer.Deserialize<List<string>>(names) ?? [],
                OptionalString(body, "description"),
                RunId: runId), ct));
            foreach (var tag in versionTags)
            {
                await store.SetTagAsync(name, created.Version, tag.Key, tag.Value, ct);
            }
            if (versionTags.Count > 0)
            {
                created = (await registry.GetVersionAsync(name, created.Version, ct))!;
            }
            return Ok(new { model_version = MlflowVersion(created) });
        });
        api.MapGet(MlflowRoutes.ModelVersionsGet, async (HttpRequest request, IRegistryClient registry, CancellationToken ct) =>
        {
            var name = RequiredQuery(request, "name");
            var number = VersionNumber(RequiredQuery(request, "version"));
            var version = await Registry(() => registry.GetVersionAsync(name, number, ct))
                ?? throw MlflowException.NotFound($"Model Version (name={name}, version={number}) not found");
            return Ok(new { model_version = MlflowVersion(version) });
        });
        api.MapGet(MlflowRoutes.ModelVersionsSearch, async (HttpRequest request, IRegistryClient registry, CancellationToken ct) =>
        {
            var (max, offset) = Paging(request, 200_000, 200_000);
            var filter = SearchFilter.ParseVersions(request.Query["filter"].FirstOrDefault());
            var models = filter.FirstOrDefault(c => c.Key == "name" && c.Op == "=") is { } exact
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
            var matching = versions.Where(v => filter.All(c => SearchFilter.Matches(c, c.Key switch
            {
                "name" => v.Model,
                "run_id" => v.RunId ?? string.Empty,
                _ => v.Version.ToString(CultureInfo.InvariantCulture),
            }))).OrderBy(v => v.Model, StringComparer.Ordinal).ThenByDescending(v => v.Version).ToList();
            var page = matching.Skip(offset).Take(max + 1).ToList();
            return Ok(new { model_versions = page.Take(max).Select(MlflowVersion), next_page_token = page.Count > max ? Token(offset + max) : null });
        });
    }

    private static (int Max, int Offset) Paging(HttpRequest request, int fallback, int limit)
    {
        var max = request.Query["max_results"].FirstOrDefault() is { } text
            ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m >= 1 && m <= limit ? m
                : throw MlflowException.InvalidParameter($"Invalid value {text} for parameter 'max_results' supplied: between 1 and {limit}.")
            : fallback;
        return (max, PageToken(request.Query["page_token"].FirstOrDefault()));
    }

    private static int VersionNumber(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= 1
            ? number
            : throw MlflowException.InvalidParameter($"Invalid value '{text}' for parameter 'version': a version number (1, 2, ...) is expected.");

    /// <summary>The registry's own errors in MLflow's shape.</summary>
    private static async Task<T> Registry<T>(Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (InputValidationException e)
        {
            throw MlflowException.InvalidParameter(e.Message);
        }
        catch (ResourceNotFoundException e)
        {
            throw MlflowException.NotFound(e.Message);
        }
    }

    private static void Registry(Action action)
    {
        try
        {
            action();
        }
        catch (InputValidationException e)
        {
            throw MlflowException.InvalidParameter(e.Message);
        }
    }

    /// <summary>MLflow's limit on a registered model's or version's tag value.</summary>
    private const int MaxRegistryTagValue = 5000;

    /// <summary>name, version (when <paramref name="withVersion"/>) and key of a delete-tag call: a JSON body as MLflow's
    /// clients send DELETE parameters, or the query string.</summary>
    private static async Task<(string Name, int Version, string Key)> TagTargetAsync(HttpRequest request, bool withVersion, CancellationToken ct)
    {
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var body = await BodyAsync(request, ct);
            return (RequiredString(body, "name"), withVersion ? VersionNumber(RequiredString(body, "version")) : 0, RequiredString(body, "key"));
        }
        return (RequiredQuery(request, "name"), withVersion ? VersionNumber(RequiredQuery(request, "version")) : 0, RequiredQuery(request, "key"));
    }

    private static async Task<object> RegisteredModelAsync(IRegistryClient registry, string name, CancellationToken ct) =>
        await RegisteredModelAsync(registry, (await Registry(() => registry.ListModelsAsync(ct))).FirstOrDefault(m => m.Name == name)
            ?? throw MlflowException.NotFound($"Registered Model with name={name} not found"), ct);

    /// <summary>A model in MLflow's shape (its versions read once, for the latest).</summary>
    private static async Task<object> RegisteredModelAsync(IRegistryClient registry, RegisteredModel model, CancellationToken ct)
    {
        var name = model.Name;
        var versions = model.LatestVersion == 0 ? [] : await Registry(() => registry.ListVersionsAsync(name, ct));
        var created = model.CreatedAt.ToUnixTimeMilliseconds();
        return new
        {
            name = model.Name,
            creation_timestamp = created,
            last_updated_timestamp = versions.Count == 0 ? created : versions.Max(v => v.CreatedAt).ToUnixTimeMilliseconds(),
            latest_versions = versions.Count == 0 ? null : new[] { MlflowVersion(versions.MaxBy(v => v.Version)!) },
            aliases = model.Aliases.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => new { alias = a.Key, version = a.Value.ToString(CultureInfo.InvariantCulture) }),
            tags = model.Tags?.Select(t => new { key = t.Key, value = t.Value }),
        };
    }

    private static object MlflowVersion(ModelVersion v) => new
    {
        name = v.Model,
        version = v.Version.ToString(CultureInfo.InvariantCulture),
        creation_timestamp = v.CreatedAt.ToUnixTimeMilliseconds(),
        last_updated_timestamp = v.CreatedAt.ToUnixTimeMilliseconds(),
        current_stage = "None",
        description = v.Description,
        source = v.RunId is null ? $"strata-artifacts:/sha256/{v.ArtifactSha256}" : $"runs:/{v.RunId}/model",
        run_id = v.RunId,
        status = "READY",
        aliases = v.Aliases,
        tags = v.Tags?.Select(t => new { key = t.Key, value = t.Value }),
    };
}
