using Strata.Security.Certificates;

namespace Strata.Security;

/// <summary>What the access checks know of the process: its name (for audit records), whether JWTs are accepted, and
/// its mutual TLS where it listens with it (then every caller is a Strata service, named by its certificate).</summary>
public sealed record SecurityRuntime(string Process, bool JwtEnabled, MutualTls? InboundTls = null);
