namespace Strata.Contracts.Registry;

/// <summary>Body of an alias update: the version the alias should point at.</summary>
public sealed record AliasTarget(int? Version);
