namespace Strata.Gateway;

/// <summary>The base URLs of each module's processes (one per replica) behind the gateway.</summary>
public sealed record ModuleDirectory(IReadOnlyDictionary<string, IReadOnlyList<Uri>> Urls);
