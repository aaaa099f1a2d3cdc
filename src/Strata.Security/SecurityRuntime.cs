namespace Strata.Security;

/// <summary>What the access checks know of the process: its name (for audit records) and whether JWTs are accepted.</summary>
public sealed record SecurityRuntime(string Process, bool JwtEnabled);
