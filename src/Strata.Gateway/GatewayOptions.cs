using System.ComponentModel.DataAnnotations;

namespace Strata.Gateway;

/// <summary>How the gateway treats the processes behind it (<c>Strata:Gateway:*</c>). The defaults follow the design
/// document's <c>DestinationRule</c> (5 consecutive errors, 30 s base ejection, at most 50% ejected) and Istio's retry
/// defaults (2 attempts on connect failures).</summary>
public sealed class GatewayOptions
{
    public const string Section = "Strata:Gateway";

    /// <summary>Passive outlier detection, with Istio's semantics.</summary>
    public OutlierDetectionOptions OutlierDetection { get; set; } = new();

    /// <summary>Active health checks of replicated modules (<c>/health/ready</c> of each replica).</summary>
    public ActiveHealthOptions HealthChecks { get; set; } = new();

    /// <summary>Retries of requests that failed in transport.</summary>
    public RetryOptions Retries { get; set; } = new();

    /// <summary>Requests in flight to one module, per replica, before the gateway answers 503 at once instead of
    /// queueing (Istio's <c>http2MaxRequests</c> + <c>http1MaxPendingRequests</c>): a module that stops answering holds
    /// at most this many of the process's requests, so the other modules keep theirs. 0 turns the limit off.</summary>
    [Range(0, 1_000_000)]
    public int MaxRequestsPerReplica { get; set; } = 256;

    /// <summary>The HTTP version between the gateway and the modules: <c>2</c> (requests multiplexed on a few connections,
    /// negotiated by ALPN over mutual TLS; with mutual TLS off the modules speak 1.1 whatever this says) or <c>1.1</c>
    /// (pooled connections, one request at a time on each). bench/gateway.sh measured 2 at 1.44x the saturated
    /// throughput of 1.1 through the gateway (9,205 against 6,404 requests/s) and 0.1 ms less p50 at 1,000/s.</summary>
    [RegularExpression(@"^(1\.1|2)$", ErrorMessage = "Strata:Gateway:ModuleHttpVersion must be 1.1 or 2")]
    public string ModuleHttpVersion { get; set; } = "2";

    /// <summary>How long the gateway waits for a module's answer to begin (and between reads of a streamed one), by module
    /// name; a module not named here uses its descriptor's <c>GatewayTimeout</c>. A timed-out request answers 504.</summary>
    public Dictionary<string, TimeSpan> Timeouts { get; set; } = new(StringComparer.Ordinal);
}

public sealed class OutlierDetectionOptions
{
    /// <summary>Consecutive 5xx answers or transport failures (gateway errors: 502, 503, 504) after which a replica is
    /// ejected (Istio <c>consecutive5xxErrors</c>).</summary>
    [Range(1, 10_000)]
    public int ConsecutiveErrors { get; set; } = 5;

    /// <summary>A replica stays ejected for this times the number of times it was ejected (Istio <c>baseEjectionTime</c>).</summary>
    public TimeSpan BaseEjectionTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Upper bound of one ejection, however often the replica was ejected before (Envoy <c>max_ejection_time</c>).</summary>
    public TimeSpan MaxEjectionTime { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>Each interval a replica spends in rotation without being ejected takes one off its ejection count (Istio
    /// <c>interval</c>; Envoy decrements the multiplier the same way).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Never more than this percentage of a module's replicas ejected at once (Istio <c>maxEjectionPercent</c>):
    /// with 3 replicas and 50%, one at most; a module with one replica is never ejected.</summary>
    [Range(0, 100)]
    public int MaxEjectionPercent { get; set; } = 50;
}

public sealed class ActiveHealthOptions
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);
}

public sealed class RetryOptions
{
    /// <summary>Attempts in all, the first included (Istio's default: 2). 1 turns retries off.</summary>
    [Range(1, 10)]
    public int Attempts { get; set; } = 2;

    /// <summary>Retries may add at most this percentage to the requests of the last <see cref="BudgetWindow"/> (plus
    /// <see cref="MinRetriesPerSecond"/>): when a module is down, retries must not multiply the load on the rest.</summary>
    [Range(0, 100)]
    public int BudgetPercent { get; set; } = 20;

    [Range(0, 10_000)]
    public int MinRetriesPerSecond { get; set; } = 10;

    public TimeSpan BudgetWindow { get; set; } = TimeSpan.FromSeconds(10);
}
