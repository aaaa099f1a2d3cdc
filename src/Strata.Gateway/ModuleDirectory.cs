namespace Strata.Gateway;

/// <summary>The base URL of each module process behind the gateway.</summary>
public sealed record ModuleDirectory(IReadOnlyDictionary<string, Uri> Urls);
