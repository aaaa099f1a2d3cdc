namespace Strata.Gateway;

/// <summary>A module behind the gateway: the path patterns (YARP route syntax) it answers and where its processes listen
/// (one URL per replica).</summary>
/// <param name="ErrorShapes">URL prefixes answered in a protocol's error shape (<c>ModuleDescriptor.ErrorShapes</c>).</param>
/// <param name="Timeout">How long to wait for its answer to begin (<c>ModuleDescriptor.GatewayTimeout</c>), unless
/// <c>Strata:Gateway:Timeouts</c> names the module.</param>
/// <param name="IdempotentPosts">POST route templates that may be sent again (<c>ModuleDescriptor.IdempotentPosts</c>).</param>
public sealed record ProxiedModule(string Name, IReadOnlyList<string> Patterns, IReadOnlyList<Uri> Urls,
    IReadOnlyDictionary<string, Strata.ServiceDefaults.IErrorShape>? ErrorShapes = null, TimeSpan? Timeout = null, IReadOnlyList<string>? IdempotentPosts = null)
{
    public ProxiedModule(string name, IReadOnlyList<string> patterns, Uri url, IReadOnlyDictionary<string, Strata.ServiceDefaults.IErrorShape>? errorShapes = null)
        : this(name, patterns, [url], errorShapes)
    {
    }

    /// <summary>The destination id of each replica: the module's name for the first, <c>name.2</c>, <c>name.3</c>... for
    /// the others (the names <c>strata up --replicas</c> gives their processes and logs).</summary>
    public static string ReplicaName(string module, int replica) => replica <= 1 ? module : $"{module}.{replica}";
}

/// <summary>The gateway's routes whose refusals take a protocol's error shape, by route id.</summary>
public sealed record GatewayErrorShapes(IReadOnlyDictionary<string, Strata.ServiceDefaults.IErrorShape> ByRoute);
