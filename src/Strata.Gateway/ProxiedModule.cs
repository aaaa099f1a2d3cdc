namespace Strata.Gateway;

/// <summary>A module behind the gateway: the path patterns (YARP route syntax) it answers and where its process listens.</summary>
/// <param name="ErrorShapes">URL prefixes answered in a protocol's error shape (<c>ModuleDescriptor.ErrorShapes</c>).</param>
public sealed record ProxiedModule(string Name, IReadOnlyList<string> Patterns, Uri Url, IReadOnlyDictionary<string, Strata.ServiceDefaults.IErrorShape>? ErrorShapes = null);

/// <summary>The gateway's routes whose refusals take a protocol's error shape, by route id.</summary>
public sealed record GatewayErrorShapes(IReadOnlyDictionary<string, Strata.ServiceDefaults.IErrorShape> ByRoute);
