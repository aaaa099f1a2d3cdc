using System.Diagnostics.Metrics;

namespace Strata.Security.Limits;

/// <summary>Requests refused by the limits: rate-limited (429, by route group) and shed at the concurrency limit
/// (503). Exported at <c>/metrics</c> as <c>strata_limits_*_total</c>.</summary>
public static class LimitMetrics
{
    private static readonly Meter Meter = new("Strata.Security");

    public static readonly Counter<long> RateLimited = Meter.CreateCounter<long>("strata.limits.rate_limited",
        description: "Requests answered 429: the principal's rate for the route group was spent");

    public static readonly Counter<long> Shed = Meter.CreateCounter<long>("strata.limits.shed",
        description: "Requests answered 503 at the process's concurrency limit (Strata:Limits:MaxConcurrentRequests)");
}
