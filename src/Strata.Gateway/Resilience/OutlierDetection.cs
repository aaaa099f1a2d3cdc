using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Strata.Gateway.Resilience;

/// <summary>Passive outlier detection with Istio's semantics (YARP's own passive policy counts transport failures only,
/// as a rate): a replica that answers <see cref="OutlierDetectionOptions.ConsecutiveErrors"/> 5xx or fails in transport
/// that many times in a row is ejected for the base ejection time times the number of times it was ejected (capped),
/// unless that would put more than <see cref="OutlierDetectionOptions.MaxEjectionPercent"/> of the module's replicas
/// out; it is back in rotation when its time is up. Every interval spent in rotation takes one off its count.
/// A request the client abandoned counts as nothing. Per request: one field read on success, one interlocked
/// increment on failure.</summary>
public sealed partial class OutlierDetection(IOptions<GatewayOptions> options, IDestinationHealthUpdater health, TimeProvider time,
    GatewayMetrics metrics, ILogger<OutlierDetection> logger) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "OutlierDetection";

    private readonly OutlierDetectionOptions _options = options.Value.OutlierDetection;
    private readonly ConditionalWeakTable<DestinationState, Replica> _replicas = [];
    private readonly ConditionalWeakTable<ClusterState, Lock> _clusterLocks = [];

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(destination);
        var replica = _replicas.GetOrCreateValue(destination);
        if (destination.Health.Passive == DestinationHealth.Unhealthy)
        {
            // Ejected: what its last requests answer does not count towards its next ejection.
            return;
        }
        if (!Failed(context))
        {
            if (replica.Consecutive != 0)
            {
                Volatile.Write(ref replica.Consecutive, 0);
            }
            return;
        }
        if (Interlocked.Increment(ref replica.Consecutive) < _options.ConsecutiveErrors)
        {
            return;
        }
        lock (_clusterLocks.GetValue(cluster, _ => new Lock()))
        {
            if (destination.Health.Passive == DestinationHealth.Unhealthy || replica.Consecutive < _options.ConsecutiveErrors)
            {
                // Already ejected (its last requests finishing), or another failing request just ejected it and it is back.
                return;
            }
            replica.Consecutive = 0;
            var total = cluster.Destinations.Count;
            var ejected = cluster.Destinations.Values.Count(d => d.Health.Passive == DestinationHealth.Unhealthy);
            if ((ejected + 1) * 100 > _options.MaxEjectionPercent * total)
            {
                LogNotEjected(logger, destination.DestinationId, cluster.ClusterId, ejected, total, _options.MaxEjectionPercent);
                return;
            }
            var now = time.GetUtcNow();
            if (replica.Ejections > 0 && replica.BackAt is { } back && now > back && _options.Interval > TimeSpan.Zero)
            {
                replica.Ejections = Math.Max(0, replica.Ejections - (int)((now - back) / _options.Interval));
            }
            replica.Ejections++;
            var duration = _options.BaseEjectionTime * replica.Ejections;
            var cap = _options.MaxEjectionTime > _options.BaseEjectionTime ? _options.MaxEjectionTime : _options.BaseEjectionTime;
            duration = duration > cap ? cap : duration;
            replica.BackAt = now + duration;
            health.SetPassive(cluster, destination, DestinationHealth.Unhealthy, duration);
            metrics.Ejections.Add(1, new KeyValuePair<string, object?>("module", cluster.ClusterId), new KeyValuePair<string, object?>("replica", destination.DestinationId));
            LogEjected(logger, destination.DestinationId, _options.ConsecutiveErrors, duration.TotalSeconds, replica.Ejections);
        }
    }

    /// <summary>A 5xx from the replica, or a transport failure that is the replica's (not the client's) doing.</summary>
    internal static bool Failed(HttpContext context)
    {
        if (context.Features.Get<IForwarderErrorFeature>() is { } error)
        {
            return !context.RequestAborted.IsCancellationRequested && error.Error is ForwarderError.Request or ForwarderError.RequestTimedOut
                or ForwarderError.RequestBodyDestination or ForwarderError.ResponseBodyDestination
                or ForwarderError.UpgradeRequestDestination or ForwarderError.UpgradeResponseDestination;
        }
        return context.Response.StatusCode >= StatusCodes.Status500InternalServerError;
    }

    private sealed class Replica
    {
        public int Consecutive;
        public int Ejections;
        public DateTimeOffset? BackAt;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ejected {Replica} after {Errors} consecutive errors for {Seconds} s (ejection {Count})")]
    private static partial void LogEjected(ILogger logger, string replica, int errors, double seconds, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not ejecting {Replica} of {Module}: {Ejected} of {Total} replicas are out already (max {Percent}%)")]
    private static partial void LogNotEjected(ILogger logger, string replica, string module, int ejected, int total, int percent);
}
