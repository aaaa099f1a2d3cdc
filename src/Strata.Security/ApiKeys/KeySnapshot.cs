using Strata.Contracts.Security;

namespace Strata.Security.ApiKeys;

/// <summary>Every key with its hash, as the Security module hands it to Strata's other processes
/// (<c>GET /api/security/key-snapshot</c>, service identity only). <see cref="Version"/> changes with every change.</summary>
public sealed record KeySnapshot(long Version, IReadOnlyList<KeySnapshot.Entry> Keys)
{
    public sealed record Entry(ApiKeyInfo Info, string Sha256);
}
