namespace Strata.Contracts.Errors;

/// <summary>The caller presented no valid credentials (401, <see cref="Authenticated"/> false) or its roles do not allow
/// the request (403).</summary>
public sealed class AccessDeniedException(bool authenticated, string message) : Exception(message)
{
    public bool Authenticated { get; } = authenticated;

    public int Status => Authenticated ? 403 : 401;
}
