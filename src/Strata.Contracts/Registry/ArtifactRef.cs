namespace Strata.Contracts.Registry;

/// <summary>Where an artifact lives: its sha256 (the address) and size in bytes.</summary>
public sealed record ArtifactRef(string Sha256, long Size);
