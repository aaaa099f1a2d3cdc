using System.Diagnostics.Metrics;

namespace Strata.Gateway.Resilience;

/// <summary>What the gateway's resilience did, as counters of the <c>Strata.Gateway</c> meter (tagged by module and,
/// for ejections, replica): ejections, retries (and retries the budget refused), requests shed at a module's limit.</summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "Strata.Gateway";

    public GatewayMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        Ejections = meter.CreateCounter<long>("strata.gateway.ejections", description: "Replicas ejected by outlier detection");
        Retries = meter.CreateCounter<long>("strata.gateway.retries", description: "Requests retried on another replica");
        RetriesRefused = meter.CreateCounter<long>("strata.gateway.retries_refused", description: "Retries the retry budget refused");
        Shed = meter.CreateCounter<long>("strata.gateway.shed", description: "Requests answered 503 at a module's in-flight limit");
    }

    public Counter<long> Ejections { get; }

    public Counter<long> Retries { get; }

    public Counter<long> RetriesRefused { get; }

    public Counter<long> Shed { get; }
}
