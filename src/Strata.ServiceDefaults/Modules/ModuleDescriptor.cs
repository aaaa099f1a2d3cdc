using Microsoft.AspNetCore.Routing;
using Strata.ServiceDefaults.Security;

namespace Strata.ServiceDefaults.Modules;

/// <summary>How a module declares itself, once: its name, the modules it calls, the URL prefixes it answers, how it
/// adds its services, maps its endpoints and registers its HTTP client for the modules that call it from another
/// process. The host, the gateway's route map, the OpenAPI documents, the supervisor and the test harness all loop
/// over one list of these (<c>StrataModules.All</c>), so adding a module is a project and one line in that list.</summary>
public sealed record ModuleDescriptor
{
    /// <summary>The module's name: its <c>strata serve --module</c> value, its OpenAPI document
    /// (<c>/openapi/{name}.json</c>), its folder under the data directory and its <c>Strata:Services:{name}</c> URL.</summary>
    public required string Name { get; init; }

    /// <summary>The modules whose clients this one uses. Each is hosted in the same process (in-process client) or
    /// reached over HTTP (<see cref="AddHttpClient"/> of that module).</summary>
    public IReadOnlyList<string> Calls { get; init; } = [];

    /// <summary>The URL prefixes the module answers (<c>/api/data</c>, <c>/predict</c>): a prefix matches itself and
    /// every path under it. The gateway proxies exactly these, plus the module's OpenAPI document.</summary>
    public IReadOnlyList<string> UrlPrefixes { get; init; } = [];

    /// <summary>The module's rows of the authorization table: every route it maps (<c>"POST /api/data/datasets/{name}"</c>)
    /// with the permissions that admit a caller. A route without a row is refused to everyone.</summary>
    public required IReadOnlyDictionary<string, Permissions> Authorization { get; init; }

    /// <summary>Routes that only some services may call over mutual TLS (route key as in <see cref="Authorization"/> to
    /// service identities). Every other route answers the gateway and the modules that list this one in their
    /// <see cref="Calls"/> (the Security and Events modules answer every process).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> RestrictedCallers { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>URL prefixes (of <see cref="UrlPrefixes"/>) whose errors a protocol shapes (MLflow's, the inference
    /// protocols'): the gateway answers its own refusals there (401, 429, 503) in that shape too.</summary>
    public IReadOnlyDictionary<string, IErrorShape> ErrorShapes { get; init; } = new Dictionary<string, IErrorShape>();

    /// <summary>Registers the module's services, including its in-process client, when the process hosts it.</summary>
    public required Action<ModuleContext> AddServices { get; init; }

    /// <summary>Maps the module's endpoints. The host puts them in the module's OpenAPI document.</summary>
    public required Action<IEndpointRouteBuilder> MapEndpoints { get; init; }

    /// <summary>Registers the module's client over HTTP for a process that calls it without hosting it. The URL is
    /// <c>Strata:Services:{name}</c>, or null when it is not configured (a module that can do without it, as the
    /// event bus on a broker does, accepts that; the others refuse with <see cref="ModuleClients.RequireUrl"/>).</summary>
    public required Action<ModuleContext, Uri?> AddHttpClient { get; init; }

    /// <summary>False for a module that is ready only once something else has happened (serving has a model to serve
    /// only after the first training): a supervisor waits for such a module to be live, not ready, before seeding.</summary>
    public bool ReadyOnStart { get; init; } = true;

    /// <summary>True for a module that keeps no state of its own (serving: its models come from the registry, its logs
    /// go out as events), so several processes may run it side by side behind the gateway
    /// (<c>strata up --topology microservices --replicas serving=3</c>).</summary>
    public bool Replicable { get; init; }

    /// <summary>POST routes (templates as in <see cref="Authorization"/>, without the method) that change nothing: the
    /// request carries its input in a body, the answer is computed from it (scoring). The gateway may send such a request
    /// to another replica when the first failed in transport, as it does GETs; any other POST it never sends twice.</summary>
    public IReadOnlyList<string> IdempotentPosts { get; init; } = [];

    /// <summary>How long the gateway waits for the module's answer to begin (and between reads of a streamed answer)
    /// before answering 504; <c>Strata:Gateway:Timeouts:{name}</c> overrides it. Ten minutes unless the module says:
    /// ingesting or materialising a large dataset answers only when done.</summary>
    public TimeSpan GatewayTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The path of the module's OpenAPI document.</summary>
    public string OpenApiPath => $"/openapi/{Name}.json";

    /// <summary>The gateway's path patterns for this module (YARP route syntax).</summary>
    public IEnumerable<string> GatewayPatterns =>
        UrlPrefixes.SelectMany(p => new[] { p, p.TrimEnd('/') + "/{**rest}" }).Append(OpenApiPath);
}
