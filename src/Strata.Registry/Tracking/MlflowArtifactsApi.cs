using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Registry.Artifacts;
using Strata.ServiceDefaults;

namespace Strata.Registry.Tracking;

/// <summary>MLflow's artifacts service as <c>mlflow server --serve-artifacts</c> exposes it, under
/// <c>/api/2.0/mlflow-artifacts/artifacts</c>: <c>PUT</c> a file (streamed to disk, size-limited), <c>GET</c> it (streamed,
/// with range requests), <c>GET ?path=</c> to list a folder, <c>DELETE</c>; and the tracking call
/// <c>GET /api/2.0/mlflow/artifacts/list</c>. Runs' artifact roots are <c>mlflow-artifacts:/&lt;experiment&gt;/&lt;run&gt;/artifacts</c>,
/// so MLflow's clients (<c>log_artifact</c>, <c>log_model</c>, <c>download_artifacts</c>) work unchanged. Files are kept in
/// Strata's content-addressed artifact store; a path names a run's artifact root and a path inside it, and cannot
/// leave it (<c>..</c>, absolute paths, backslashes and encoded separators are refused).</summary>
public static class MlflowArtifactsApi
{
    public const string Prefix = "/api/2.0/mlflow-artifacts";
    public const int MaxPathLength = 1024;

    public static IEndpointRouteBuilder MapMlflowArtifactsApi(this IEndpointRouteBuilder app)
    {
        var maxBytes = app.ServiceProvider.GetRequiredService<IOptions<RegistryOptions>>().Value.MaxArtifactBytes;
        var api = app.MapGroup(Prefix).InModule(ModuleNames.Registry).WithTags("MLflow artifacts").WithErrorShape(MlflowErrorShape.Instance);
        // Any content type: MLflow's client sends the file without one.
        api.MapPut("/artifacts/{**path}", Upload).WithMetadata(new BodySizeLimit(maxBytes))
            .WithSummary("Upload a file under a run's artifact root (the body is the file)");
        api.MapGet("/artifacts/{**path}", Download).WithSummary("Download a file (range requests supported)");
        api.MapGet("/artifacts", List).WithSummary("List a folder: ?path=<experiment>/<run>/artifacts[/...]");
        api.MapDelete("/artifacts/{**path}", Delete).WithSummary("Delete a file or folder");
        api.Map("/{**rest}", (HttpRequest request) => MlflowErrorShape.Error(StatusCodes.Status404NotFound, "ENDPOINT_NOT_FOUND",
            $"No API endpoint {request.Method} {request.Path}")).ExcludeFromDescription();
        return app;
    }

    /// <summary><c>{"files": [{"path", "is_dir", "file_size"}]}</c>: a folder's entries by name (MLflow's shape).</summary>
    public sealed record ArtifactsList(IReadOnlyList<ArtifactEntry> Files);

    public sealed record ArtifactEntry(string Path, bool IsDir, long? FileSize = null);

    /// <summary><c>artifacts/list</c> of the tracking API: entries relative to the run's root.</summary>
    public sealed record RunArtifactsList(string RootUri, IReadOnlyList<ArtifactEntry> Files);

    public static async Task<Ok<object>> Upload(string? path, HttpRequest request, ITrackingStore tracking, ArtifactStore artifacts, TimeProvider time, CancellationToken ct)
    {
        var target = await ResolveAsync(path, tracking, requireFile: true, ct);
        var stored = await artifacts.PutAsync(request.Body, ct, allowEmpty: true);
        await tracking.PutArtifactFileAsync(target, stored.Sha256, stored.Size, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
        return TypedResults.Ok<object>(new { });
    }

    public static async Task<IResult> Download(string? path, ITrackingStore tracking, ArtifactStore artifacts, CancellationToken ct)
    {
        var target = await ResolveAsync(path, tracking, requireFile: true, ct);
        var file = (await tracking.ListArtifactFilesAsync(target, ct)).FirstOrDefault(f => f.Path == target)
            ?? throw new ResourceNotFoundException("artifact", target);
        return TypedResults.Stream(await artifacts.OpenVerifiedAsync(file.Sha256, ct), "application/octet-stream", fileDownloadName: null, enableRangeProcessing: true);
    }

    public static async Task<Ok<ArtifactsList>> List([FromQuery] string? path, ITrackingStore tracking, CancellationToken ct)
    {
        var folder = await ResolveAsync(path, tracking, requireFile: false, ct);
        return TypedResults.Ok(new ArtifactsList(Entries(await tracking.ListArtifactFilesAsync(folder, ct), folder)));
    }

    public static async Task<Ok<object>> Delete(string? path, ITrackingStore tracking, CancellationToken ct)
    {
        var target = await ResolveAsync(path, tracking, requireFile: true, ct);
        if (await tracking.DeleteArtifactFilesAsync(target, ct) == 0)
        {
            throw new ResourceNotFoundException("artifact", target);
        }
        return TypedResults.Ok<object>(new { });
    }

    /// <summary><c>GET /api/2.0/mlflow/artifacts/list?run_id=&amp;path=</c>.</summary>
    public static async Task<Ok<RunArtifactsList>> ListRun([FromQuery(Name = "run_id")] string? runId, [FromQuery] string? path, ITrackingStore tracking,
        CancellationToken ct)
    {
        var id = string.IsNullOrEmpty(runId) ? throw new InputValidationException("run_id", "is required") : runId;
        var run = await tracking.GetRunAsync(id, ct) ?? throw new ResourceNotFoundException("run", id);
        var root = RootOf(run.Info.ArtifactUri) ?? throw new InputValidationException("run_id", $"run {id}'s artifacts are not kept here ({run.Info.ArtifactUri})");
        var folder = string.IsNullOrEmpty(path) ? root : await ResolveAsync($"{root}/{path}", tracking, requireFile: false, ct);
        var relative = folder.Length == root.Length ? string.Empty : folder[(root.Length + 1)..] + "/";
        return TypedResults.Ok(new RunArtifactsList(run.Info.ArtifactUri,
            [.. Entries(await tracking.ListArtifactFilesAsync(folder, ct), folder).Select(e => e with { Path = relative + e.Path })]));
    }

    /// <summary>A run's artifact root as a path of the service (<c>1/abc/artifacts</c>), or null when the run's artifacts
    /// live elsewhere (an experiment created with another artifact location).</summary>
    public static string? RootOf(string artifactUri) =>
        artifactUri.StartsWith(SqlTrackingStore.ArtifactScheme, StringComparison.Ordinal) ? artifactUri[SqlTrackingStore.ArtifactScheme.Length..].TrimEnd('/') : null;

    /// <summary>The direct children of <paramref name="folder"/>: files with their size, folders once.</summary>
    private static List<ArtifactEntry> Entries(IReadOnlyList<ArtifactFile> files, string folder)
    {
        var entries = new SortedDictionary<string, ArtifactEntry>(StringComparer.Ordinal);
        foreach (var file in files.Where(f => f.Path.Length > folder.Length))
        {
            var rest = file.Path[(folder.Length + 1)..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            entries.TryAdd(slash < 0 ? rest : rest[..slash], slash < 0 ? new ArtifactEntry(rest, false, file.Size) : new ArtifactEntry(rest[..slash], true));
        }
        return [.. entries.Values];
    }

    /// <summary>A checked path under a run's artifact root: <c>&lt;experiment&gt;/&lt;run&gt;/artifacts[/...]</c> of a run
    /// that exists in that experiment; with <paramref name="requireFile"/>, a path inside the root.</summary>
    public static async Task<string> ResolveAsync(string? path, ITrackingStore tracking, bool requireFile, CancellationToken ct)
    {
        var segments = Segments(path);
        if (segments.Length < 3 || segments[2] != "artifacts" || !long.TryParse(segments[0], NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            throw new InputValidationException("path", $"'{path}' is not under a run's artifact root (<experiment_id>/<run_id>/artifacts/...)");
        }
        if (requireFile && segments.Length == 3)
        {
            throw new InputValidationException("path", "names the artifact root itself; give a file under it");
        }
        var run = await tracking.GetRunAsync(segments[1], ct);
        if (run is null || run.Info.ExperimentId != segments[0])
        {
            throw new ResourceNotFoundException("run", $"{segments[1]} in experiment {segments[0]}");
        }
        return string.Join('/', segments);
    }

    private static string[] Segments(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new InputValidationException("path", "is required");
        }
        if (path.Length > MaxPathLength || path.Any(c => char.IsControl(c) || c == '\\') || path.StartsWith('/')
            || path.Contains("%2f", StringComparison.OrdinalIgnoreCase) || path.Contains("%5c", StringComparison.OrdinalIgnoreCase))
        {
            throw new InputValidationException("path", $"must be a relative path of at most {MaxPathLength} characters, with '/' separators only (no backslash, control or encoded separator)");
        }
        var segments = path.TrimEnd('/').Split('/');
        if (segments.Any(s => s.Length == 0 || s == "." || s == ".."))
        {
            throw new InputValidationException("path", "must not contain empty, '.' or '..' segments (a path cannot leave its run's artifacts)");
        }
        return segments;
    }
}
