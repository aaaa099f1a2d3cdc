namespace Strata.Contracts.Security;

/// <summary>A key just created: the only time its secret (<see cref="Key"/>) is shown.</summary>
public sealed record CreatedApiKey(ApiKeyInfo Info, string Key);
