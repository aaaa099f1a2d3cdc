namespace Strata.Gateway;

/// <summary>A module behind the gateway: the path patterns (YARP route syntax) it answers and where its process listens.</summary>
public sealed record ProxiedModule(string Name, IReadOnlyList<string> Patterns, Uri Url);
