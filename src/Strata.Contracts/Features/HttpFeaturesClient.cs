using System.Collections.Concurrent;
using System.Net.Http.Json;
using Strata.Contracts.Errors;
using Strata.Contracts.Http;

namespace Strata.Contracts.Features;

/// <summary><see cref="IFeaturesClient"/> over the Features module's HTTP API. A view at a given version never changes,
/// so those are cached; a view by name alone follows the applied definitions and is asked for each time.</summary>
public sealed class HttpFeaturesClient(HttpClient http) : IFeaturesClient
{
    private readonly ConcurrentDictionary<string, FeatureViewInfo> _views = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<FeatureViewInfo>> ListViewsAsync(CancellationToken cancellationToken = default) =>
        await ModuleHttp.SendAsync<List<FeatureViewInfo>>(http, ModuleNames.Features,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.Views)), cancellationToken) ?? [];

    public async Task<FeatureViewInfo?> GetViewAsync(string name, CancellationToken cancellationToken = default) =>
        await ModuleHttp.SendAsync<FeatureViewInfo>(http, ModuleNames.Features,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.View, name)), cancellationToken, notFoundAsNull: true);

    public async Task<FeatureViewInfo?> GetViewVersionAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        var key = name + "@" + version;
        if (_views.TryGetValue(key, out var cached))
        {
            return cached;
        }
        var view = await ModuleHttp.SendAsync<FeatureViewInfo>(http, ModuleNames.Features,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.View, name) + "?version=" + Uri.EscapeDataString(version)),
            cancellationToken, notFoundAsNull: true);
        if (view is not null)
        {
            _views[key] = view;
        }
        return view;
    }

    public async Task<TrainingFrame> BuildTrainingFrameAsync(TrainingFrameRequest request, CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<TrainingFrame>(http, ModuleNames.Features,
            () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.TrainingFrame)) { Content = JsonContent.Create(request, options: StrataJson.Options) },
            cancellationToken))!;

    public async ValueTask<double[]> ComputeAsync(string view, double[] inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var info = await GetViewAsync(view, cancellationToken) ?? throw new ResourceNotFoundException("feature view", view);
        if (inputs.Length != info.Inputs.Count)
        {
            throw new InputValidationException("inputs", $"view '{view}' takes {info.Inputs.Count} inputs, got {inputs.Length}");
        }
        var body = new Dictionary<string, double>(info.Inputs.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            body[info.Inputs[i].Name] = inputs[i];
        }
        var result = await ModuleHttp.SendAsync<ComputedFeatures>(http, ModuleNames.Features,
            () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.Compute, view))
            { Content = JsonContent.Create(body, options: StrataJson.Options) }, cancellationToken);
        return result!.Values;
    }

    public async Task<IReadOnlyList<EntityInfo>> ListEntitiesAsync(CancellationToken cancellationToken = default) =>
        await GetAsync<List<EntityInfo>>(RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.Entities), cancellationToken) ?? [];

    public async Task<IReadOnlyList<PushSourceInfo>> ListPushSourcesAsync(CancellationToken cancellationToken = default) =>
        await GetAsync<List<PushSourceInfo>>(RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.PushSources), cancellationToken) ?? [];

    public async Task<IReadOnlyList<FeatureServiceInfo>> ListFeatureServicesAsync(CancellationToken cancellationToken = default) =>
        await GetAsync<List<FeatureServiceInfo>>(RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.Services), cancellationToken) ?? [];

    public Task<OnlineFeaturesResponse> GetOnlineFeaturesAsync(OnlineFeaturesRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<OnlineFeaturesRequest, OnlineFeaturesResponse>(RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.OnlineFeatures), request, cancellationToken);

    public Task<PushResult> PushAsync(PushRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<PushRequest, PushResult>(RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.Push), request, cancellationToken);

    public Task<HistoricalFeaturesResponse> GetHistoricalFeaturesAsync(HistoricalFeaturesRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<HistoricalFeaturesRequest, HistoricalFeaturesResponse>(RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.Historical), request, cancellationToken);

    public Task<MaterializeResult> MaterializeAsync(MaterializeRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<MaterializeRequest, MaterializeResult>(RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.Materialize), request, cancellationToken);

    public Task<MaterializeResult> MaterializeIncrementalAsync(MaterializeIncrementalRequest request, CancellationToken cancellationToken = default) =>
        PostAsync<MaterializeIncrementalRequest, MaterializeResult>(RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.MaterializeIncremental), request, cancellationToken);

    private Task<T?> GetAsync<T>(string path, CancellationToken cancellationToken) =>
        ModuleHttp.SendAsync<T>(http, ModuleNames.Features, () => new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);

    private async Task<TResponse> PostAsync<TRequest, TResponse>(string path, TRequest request, CancellationToken cancellationToken) =>
        (await ModuleHttp.SendAsync<TResponse>(http, ModuleNames.Features,
            () => new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(request, options: StrataJson.Options) },
            cancellationToken))!;
}
