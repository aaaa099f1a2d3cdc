using System.Globalization;
using System.Text.Json;
using Strata.Contracts.Errors;
using Strata.Contracts.Registry;
using Strata.Registry.Artifacts;
using YamlDotNet.RepresentationModel;

namespace Strata.Registry.Tracking;

/// <summary>What a model version registered through MLflow's <c>model-versions/create</c> is, from its <c>source</c>, as
/// MLflow accepts it: <c>runs:/&lt;run_id&gt;/&lt;path&gt;</c>, <c>mlflow-artifacts:/&lt;path&gt;</c>,
/// <c>models:/&lt;name&gt;/&lt;version&gt;</c> (or <c>@alias</c>), or any other URI. A folder with an <c>MLmodel</c> file is
/// read: the <c>onnx</c> flavor is served by the ONNX runtime, <c>strata_mlnet</c> (what Strata logs for its own models)
/// by ML.NET; any other flavor, a folder without <c>MLmodel</c>, or a source outside Strata's artifacts is registered as
/// <see cref="ModelFormats.External"/> with the reason serving will give. A Strata-trained run's <c>runs:/&lt;id&gt;/model</c>
/// needs no upload: the run's tags name its artifact.</summary>
public sealed class MlflowModelSources(ITrackingStore tracking, ArtifactStore artifacts, IRegistryClient registry)
{
    /// <summary>Flavors served here, and the format each is served as.</summary>
    public static IReadOnlyDictionary<string, string> ServedFlavors { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["onnx"] = ModelFormats.Onnx,
        ["strata_mlnet"] = ModelFormats.MlNet,
    };

    public async Task<(NewModelVersion Version, string? RunId)> ResolveAsync(string source, string? runId, string? description, CancellationToken ct)
    {
        if (source.StartsWith("runs:/", StringComparison.Ordinal))
        {
            var rest = source["runs:/".Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var fromSource = slash < 0 ? rest : rest[..slash];
            if (runId is not null && runId != fromSource)
            {
                throw new InputValidationException("run_id", $"'{runId}' differs from the run in source '{source}'");
            }
            var run = await tracking.GetRunAsync(fromSource, ct) ?? throw new ResourceNotFoundException("run", fromSource);
            var path = slash < 0 ? string.Empty : rest[(slash + 1)..].Trim('/');
            var root = MlflowArtifactsApi.RootOf(run.Info.ArtifactUri);
            var folder = root is null ? null : path.Length == 0 ? root : await MlflowArtifactsApi.ResolveAsync($"{root}/{path}", tracking, requireFile: false, ct);
            var files = folder is null ? [] : await tracking.ListArtifactFilesAsync(folder, ct);
            var tags = (run.Data.Tags ?? []).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
            if (files.Count == 0 && path == "model" && tags.TryGetValue("strata.artifact_sha256", out var sha) && tags.TryGetValue("strata.feature_names", out var names))
            {
                return (WithRun(new NewModelVersion(sha, tags.GetValueOrDefault("strata.format", ModelFormats.MlNet), new Dictionary<string, double>(), new Dictionary<string, string>(),
                    tags.GetValueOrDefault("strata.dataset_version"),
                    tags.GetValueOrDefault("strata.feature_view"), tags.GetValueOrDefault("strata.feature_view_version"),
                    JsonSerializer.Deserialize<List<string>>(names) ?? [], description), run, source), fromSource);
            }
            var version = folder is null
                ? await ExternalAsync(source, $"run {fromSource}'s artifacts are kept outside Strata ({run.Info.ArtifactUri})", description, ct)
                : await FromFolderAsync(folder, files, source, description, ct);
            return (WithRun(version, run, source), fromSource);
        }
        if (source.StartsWith(SqlTrackingStore.ArtifactScheme, StringComparison.Ordinal))
        {
            var folder = await MlflowArtifactsApi.ResolveAsync(source[SqlTrackingStore.ArtifactScheme.Length..].Trim('/'), tracking, requireFile: false, ct);
            var run = folder.Split('/')[1];
            return (await FromFolderAsync(folder, await tracking.ListArtifactFilesAsync(folder, ct), source, description, ct), runId ?? run);
        }
        if (source.StartsWith("models:/", StringComparison.Ordinal))
        {
            var reference = source["models:/".Length..].Trim('/');
            var at = reference.IndexOf('@', StringComparison.Ordinal);
            var slash = reference.IndexOf('/', StringComparison.Ordinal);
            ModelVersion? from = at > 0
                ? await registry.GetVersionByAliasAsync(reference[..at], reference[(at + 1)..], ct)
                : slash > 0 && int.TryParse(reference[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                    ? await registry.GetVersionAsync(reference[..slash], number, ct)
                    : throw new InputValidationException("source", $"'{source}' is not models:/<name>/<version> or models:/<name>@<alias>");
            if (from is null)
            {
                throw new ResourceNotFoundException("model version", reference);
            }
            var parameters = new Dictionary<string, string>(from.Params, StringComparer.Ordinal) { [ModelFormats.Source] = source };
            return (new NewModelVersion(from.ArtifactSha256, from.Format, from.Metrics, parameters, from.DatasetVersion, from.FeatureView,
                from.FeatureViewVersion, from.FeatureNames, description ?? from.Description), runId ?? from.RunId);
        }
        if (!Uri.TryCreate(source, UriKind.Absolute, out _))
        {
            throw new InputValidationException("source", $"'{source}' is not a URI (runs:/<run_id>/<path>, models:/<name>/<version>, mlflow-artifacts:/<path>, s3://...)");
        }
        return (await ExternalAsync(source, $"the source {source} is outside Strata's artifact store", description, ct), runId);
    }

    /// <summary>A folder of the artifacts service holding an MLflow model.</summary>
    private async Task<NewModelVersion> FromFolderAsync(string folder, IReadOnlyList<ArtifactFile> files, string source, string? description, CancellationToken ct)
    {
        var mlmodel = files.FirstOrDefault(f => f.Path == folder + "/MLmodel");
        if (mlmodel is null)
        {
            return files.Count == 1 && files[0].Path == folder && folder.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)
                ? Served(ModelFormats.Onnx, files[0].Sha256, [], source, description, null, null)
                : await ExternalAsync(source, files.Count == 0 ? $"nothing was uploaded at {folder}" : $"{folder} holds no MLmodel file", description, ct);
        }
        var text = System.Text.Encoding.UTF8.GetString(await artifacts.ReadVerifiedAsync(mlmodel.Sha256, ct));
        YamlMappingNode root;
        try
        {
            var yaml = new YamlStream();
            yaml.Load(new StringReader(text));
            root = yaml.Documents.FirstOrDefault()?.RootNode as YamlMappingNode ?? throw new InputValidationException("source", $"{folder}/MLmodel is not a YAML mapping");
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InputValidationException("source", $"{folder}/MLmodel is not valid YAML: {e.Message}");
        }
        var flavors = Mapping(root, "flavors");
        var names = flavors?.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value!).ToList() ?? [];
        var flavor = names.FirstOrDefault(ServedFlavors.ContainsKey);
        if (flavor is null)
        {
            return await ExternalAsync(source, names.Count == 0
                ? $"{folder}/MLmodel declares no flavor"
                : $"its flavors ({string.Join(", ", names)}) have no runtime here; Strata serves {string.Join(" and ", ServedFlavors.Keys)}", description, ct, mlmodel.Sha256);
        }
        var spec = Mapping(flavors!, flavor)!;
        var data = Scalar(spec, "data") ?? Scalar(spec, "model_path")
            ?? throw new InputValidationException("source", $"{folder}/MLmodel: flavor {flavor} names no data file");
        var file = files.FirstOrDefault(f => f.Path == $"{folder}/{data.Trim('/')}")
            ?? throw new InputValidationException("source", $"{folder}/MLmodel: flavor {flavor}'s data file '{data}' was not uploaded");
        var featureNames = Sequence(spec, "feature_names") ?? SignatureInputs(root) ?? [];
        return Served(ServedFlavors[flavor], file.Sha256, featureNames, source, description, Scalar(spec, "feature_view"), Scalar(spec, "feature_view_version"));
    }

    private static NewModelVersion Served(string format, string sha, IReadOnlyList<string> featureNames, string source, string? description, string? view, string? viewVersion) =>
        new(sha, format, new Dictionary<string, double>(), new Dictionary<string, string> { [ModelFormats.Source] = source }, null, view, viewVersion, featureNames, description);

    /// <summary>A version serving will not load, with the reason; its artifact is the MLmodel file, or the source's text.</summary>
    private async Task<NewModelVersion> ExternalAsync(string source, string reason, string? description, CancellationToken ct, string? sha = null)
    {
        sha ??= (await artifacts.PutAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(source)), ct)).Sha256;
        return new NewModelVersion(sha, ModelFormats.External, new Dictionary<string, double>(),
            new Dictionary<string, string> { [ModelFormats.Source] = source, [ModelFormats.UnservableReason] = reason }, null, null, null, [], description);
    }

    /// <summary>The run's metrics and params join the version (MLflow's UI shows them through the run; Strata's on the version).</summary>
    private static NewModelVersion WithRun(NewModelVersion version, Contracts.Tracking.Run run, string source)
    {
        var parameters = (run.Data.Params ?? []).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        foreach (var (key, value) in version.Params)
        {
            parameters[key] = value;
        }
        parameters[ModelFormats.Source] = source;
        return version with
        {
            Metrics = (run.Data.Metrics ?? []).Where(m => double.IsFinite(m.Value)).GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal),
            Params = parameters,
            RunId = run.Info.RunId,
        };
    }

    private static YamlMappingNode? Mapping(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value as YamlMappingNode : null;

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode { Value: { } text } ? text : null;

    private static List<string>? Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode list
            ? [.. list.Children.OfType<YamlScalarNode>().Select(s => s.Value!)]
            : null;

    /// <summary>The input names of an MLmodel <c>signature</c> (a JSON string of column or tensor specs), when named.</summary>
    private static List<string>? SignatureInputs(YamlMappingNode root)
    {
        if (Mapping(root, "signature") is not { } signature || Scalar(signature, "inputs") is not { } json)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            var names = document.RootElement.EnumerateArray().Select(e => e.TryGetProperty("name", out var n) ? n.GetString() : null).ToList();
            return names.All(n => n is not null) ? [.. names.Select(n => n!)] : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
