using System.Net.Http.Json;
using Strata.Contracts.Http;

namespace Strata.Contracts.Registry;

/// <summary>Rollouts (<c>/api/rollouts</c>): a candidate version moved to an alias step by step, gated on its
/// measured errors, latency and, optionally, its quality on labelled outcomes.</summary>
public interface IRolloutsClient
{
    Task<Rollout> StartAsync(RolloutSpec spec, CancellationToken cancellationToken = default);

    Task<Rollout?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Rollouts newest first, of one model or all.</summary>
    Task<IReadOnlyList<Rollout>> ListAsync(string? model = null, CancellationToken cancellationToken = default);

    /// <summary><c>pause</c>, <c>resume</c> or <c>abort</c> (abort sends every request back to the baseline).</summary>
    Task<Rollout> ControlAsync(string id, string action, CancellationToken cancellationToken = default);
}

/// <summary>The routes of rollouts.</summary>
public static class RolloutRoutes
{
    public const string Prefix = "/api/rollouts";
    public const string Rollout = "/{id}";
    public const string Action = "/{id}/{action}";
    public static readonly IReadOnlyList<string> Actions = ["pause", "resume", "abort"];
}

/// <summary><see cref="IRolloutsClient"/> over HTTP.</summary>
public sealed class HttpRolloutsClient(HttpClient http) : IRolloutsClient
{
    public async Task<Rollout> StartAsync(RolloutSpec spec, CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<Rollout>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Post, RolloutRoutes.Prefix) { Content = JsonContent.Create(spec, options: StrataJson.Options) }, cancellationToken))!;

    public Task<Rollout?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        ModuleHttp.SendAsync<Rollout>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(RolloutRoutes.Prefix, RolloutRoutes.Rollout, id)), cancellationToken, notFoundAsNull: true);

    public async Task<IReadOnlyList<Rollout>> ListAsync(string? model = null, CancellationToken cancellationToken = default) =>
        await ModuleHttp.SendAsync<List<Rollout>>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Get, RolloutRoutes.Prefix + (model is null ? "" : "?model=" + Uri.EscapeDataString(model))), cancellationToken) ?? [];

    public async Task<Rollout> ControlAsync(string id, string action, CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<Rollout>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(RolloutRoutes.Prefix, RolloutRoutes.Action, id, action)), cancellationToken))!;
}
