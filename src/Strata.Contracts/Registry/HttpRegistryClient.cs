using System.Net.Http.Headers;
using System.Net.Http.Json;
using Strata.Contracts.Http;

namespace Strata.Contracts.Registry;

/// <summary><see cref="IRegistryClient"/> over the Registry module's HTTP API.</summary>
public sealed class HttpRegistryClient(HttpClient http) : IRegistryClient
{
    public async Task<ArtifactRef> PutArtifactAsync(Stream content, CancellationToken cancellationToken = default)
    {
        // Buffer once so a retried attempt can resend the same bytes.
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        var bytes = buffer.ToArray();
        return (await ModuleHttp.SendAsync<ArtifactRef>(http, ModuleNames.Registry, () =>
        {
            var body = new ByteArrayContent(bytes);
            body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            return new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.Artifacts)) { Content = body };
        }, cancellationToken))!;
    }

    public async Task<byte[]> GetArtifactAsync(string sha256, CancellationToken cancellationToken = default)
    {
        using var response = await ModuleHttp.SendRawAsync(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.Artifact, sha256)), cancellationToken);
        await ModuleHttp.EnsureSuccessAsync(response, ModuleNames.Registry, cancellationToken);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    public async Task<ModelVersion> CreateVersionAsync(string model, NewModelVersion version, CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<ModelVersion>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.Versions, model))
            { Content = JsonContent.Create(version, options: StrataJson.Options) }, cancellationToken))!;

    public Task<ModelVersion?> GetVersionAsync(string model, int version, CancellationToken cancellationToken = default) =>
        ModuleHttp.SendAsync<ModelVersion>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.Version, model, version.ToString(System.Globalization.CultureInfo.InvariantCulture))), cancellationToken, notFoundAsNull: true);

    public Task<ModelVersion?> GetVersionByAliasAsync(string model, string alias, CancellationToken cancellationToken = default) =>
        ModuleHttp.SendAsync<ModelVersion>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.Alias, model, alias)), cancellationToken, notFoundAsNull: true);

    public async Task<ModelVersion> SetAliasAsync(string model, string alias, int version, CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<ModelVersion>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Put, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.Alias, model, alias))
            { Content = JsonContent.Create(new AliasTarget(version), options: StrataJson.Options) }, cancellationToken))!;

    public async Task DeleteAliasAsync(string model, string alias, CancellationToken cancellationToken = default)
    {
        using var response = await ModuleHttp.SendRawAsync(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Delete, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.Alias, model, alias)), cancellationToken);
        await ModuleHttp.EnsureSuccessAsync(response, ModuleNames.Registry, cancellationToken);
    }

    public async Task<IReadOnlyList<RegisteredModel>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        await ModuleHttp.SendAsync<List<RegisteredModel>>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.Models)), cancellationToken) ?? [];

    public async Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string model, CancellationToken cancellationToken = default) =>
        await ModuleHttp.SendAsync<List<ModelVersion>>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.Versions, model)), cancellationToken) ?? [];

    public Task<TrafficPolicyVersion?> GetTrafficPolicyAsync(string model, CancellationToken cancellationToken = default) =>
        ModuleHttp.SendAsync<TrafficPolicyVersion>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.Traffic, model)), cancellationToken, notFoundAsNull: true);

    public async Task<TrafficPolicyVersion> SetTrafficPolicyAsync(string model, TrafficPolicy? policy, CancellationToken cancellationToken = default)
    {
        if (policy is null)
        {
            return (await ModuleHttp.SendAsync<TrafficPolicyVersion>(http, ModuleNames.Registry,
                () => new HttpRequestMessage(HttpMethod.Delete, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.Traffic, model)), cancellationToken))!;
        }
        return (await ModuleHttp.SendAsync<TrafficPolicyVersion>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Put, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.Traffic, model))
            { Content = JsonContent.Create(policy, options: StrataJson.Options) }, cancellationToken))!;
    }

    public async Task<IReadOnlyList<TrafficPolicyVersion>> GetTrafficHistoryAsync(string model, CancellationToken cancellationToken = default) =>
        await ModuleHttp.SendAsync<List<TrafficPolicyVersion>>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(RegistryRoutes.Prefix, RegistryRoutes.TrafficHistory, model)), cancellationToken) ?? [];
}
