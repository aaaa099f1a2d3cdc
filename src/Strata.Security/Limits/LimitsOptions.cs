namespace Strata.Security.Limits;

/// <summary><c>Strata:Limits</c>: per-principal rate limits per route group and the process's concurrency limit.</summary>
public sealed class LimitsOptions
{
    public const string Section = "Strata:Limits";

    /// <summary>Requests handled at once before more are shed with 503 and <c>Retry-After</c> (0 turns shedding off). The
    /// default keeps a process answering (fast 503s) instead of queueing work it cannot finish: on two cores the serving
    /// path saturates the CPU at about 32 connections, so 512 in flight is overload, not throughput.</summary>
    public int MaxConcurrentRequests { get; set; } = 512;

    /// <summary>Token buckets per principal and route group (<see cref="RouteGroups"/>): a group without one is not limited.
    /// E.g. <c>Strata:Limits:Rates:train:PerSecond = 2</c>, <c>...:Burst = 10</c>.</summary>
    public Dictionary<string, RateLimit> Rates { get; } = new(StringComparer.Ordinal);

    /// <summary>One group's bucket: <see cref="PerSecond"/> tokens added a second, at most <see cref="Burst"/> held.</summary>
    public sealed class RateLimit
    {
        public double PerSecond { get; set; }

        public int Burst { get; set; }
    }
}
