using System.Net.Http.Json;
using Strata.Contracts.Http;

namespace Strata.Contracts.Security;

/// <summary>The Security module's API over HTTP: API keys, who the caller is, the roles and the authorization table.</summary>
public sealed class HttpSecurityClient(HttpClient http)
{
    public async Task<CreatedApiKey> CreateKeyAsync(NewApiKey key, CancellationToken cancellationToken) =>
        (await ModuleHttp.SendAsync<CreatedApiKey>(http, ModuleNames.Security, () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(SecurityRoutes.Keys, ""))
        { Content = JsonContent.Create(key, options: StrataJson.Options) }, cancellationToken))!;

    public async Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync(CancellationToken cancellationToken) =>
        (await ModuleHttp.SendAsync<List<ApiKeyInfo>>(http, ModuleNames.Security, () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(SecurityRoutes.Keys, "")),
            cancellationToken))!;

    public async Task<ApiKeyInfo> RevokeKeyAsync(string id, CancellationToken cancellationToken) =>
        (await ModuleHttp.SendAsync<ApiKeyInfo>(http, ModuleNames.Security, () => new HttpRequestMessage(HttpMethod.Delete, RoutePath.Of(SecurityRoutes.Keys, "/{id}", id)),
            cancellationToken))!;

    public async Task<Principal> WhoAmIAsync(CancellationToken cancellationToken) =>
        (await ModuleHttp.SendAsync<Principal>(http, ModuleNames.Security, () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(SecurityRoutes.WhoAmI, "")),
            cancellationToken))!;

    public async Task<IReadOnlyList<RoleGrant>> RolesAsync(CancellationToken cancellationToken) =>
        (await ModuleHttp.SendAsync<List<RoleGrant>>(http, ModuleNames.Security, () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(SecurityRoutes.Roles, "")),
            cancellationToken))!;
}
