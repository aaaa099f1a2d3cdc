namespace Strata.Contracts.Security;

/// <summary>Data of <c>security.request_audited</c> (schema v1): a state-changing request by a principal: who (name, how
/// authenticated, key id), what (method, route as in the authorization table, path), from where (remote address), the
/// outcome (<c>allowed</c> with the status, or <c>forbidden</c>) and the process that handled it. When is the envelope's time.</summary>
public sealed record RequestAuditedEvent(string Principal, string Kind, string? KeyId, string Method, string Route, string Path, string? RemoteAddress,
    int Status, string Outcome, string Process, string? TraceId);
