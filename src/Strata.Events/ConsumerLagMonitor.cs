using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Events;
using Strata.Events.Transport;

namespace Strata.Events;

/// <summary>Reads every platform topic's consumer groups from the broker every <see cref="Interval"/> and exposes them
/// as gauges of the Events meter: <c>strata.events.consumer_lag</c> (messages not yet delivered to the group),
/// <c>strata.events.in_flight</c> (delivered, not acknowledged) and <c>strata.events.group.redeliveries</c> (a counter the broker keeps), each
/// tagged with topic and group. Runs in the process hosting the Events module.</summary>
public sealed partial class ConsumerLagMonitor : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private readonly IEventTransport _transport;
    private readonly TimeProvider _time;
    private readonly ILogger<ConsumerLagMonitor> _logger;
    private volatile IReadOnlyList<ConsumerGroupState> _latest = [];

    public ConsumerLagMonitor(IEventTransport transport, TimeProvider time, ILogger<ConsumerLagMonitor> logger)
    {
        _transport = transport;
        _time = time;
        _logger = logger;
        EventMetrics.Meter.CreateObservableGauge("strata.events.consumer_lag", () => Measure(s => s.Pending + s.InFlight),
            description: "Messages the group has not acknowledged yet (Kafka's lag: not delivered, or delivered or prefetched and not acknowledged)");
        EventMetrics.Meter.CreateObservableGauge("strata.events.in_flight", () => Measure(s => s.InFlight), description: "Messages delivered and not yet acknowledged");
        EventMetrics.Meter.CreateObservableCounter("strata.events.group.redeliveries", () => Measure(s => s.Redelivered),
            description: "Deliveries to the group that were repeats, as the broker counts them");
    }

    public IReadOnlyList<ConsumerGroupState> Latest => _latest;

    private IEnumerable<System.Diagnostics.Metrics.Measurement<long>> Measure(Func<ConsumerGroupState, long> value) =>
        _latest.Select(s => new System.Diagnostics.Metrics.Measurement<long>(value(s), EventMetrics.Tags(s.Topic, s.Group)));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            do
            {
                try
                {
                    var states = new List<ConsumerGroupState>();
                    foreach (var topic in EventTopics.All)
                    {
                        states.AddRange(await _transport.DescribeAsync(topic, stoppingToken));
                    }
                    _latest = states;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFailed(_logger, e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Consumer lag not read: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
