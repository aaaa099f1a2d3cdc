using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Contracts.Events;
using Strata.Events.Embedded;
using Strata.Events.Transport;
using Strata.Testing;

namespace Strata.Events.Tests;

public sealed class ConsumerLagMonitorTests
{
    [Fact]
    public async Task Monitor_GroupBehind_ReportsItsLagAndInFlightAsGauges()
    {
        using var folder = new TempFolder();
        await using var log = new EmbeddedEventLog(folder.Path, new EmbeddedLogOptions(), TimeProvider.System);
        await using var consumer = await log.OpenConsumerAsync(EventTopics.ModelTrained, "lagging", ConsumerSettings.Default("c1"));
        await log.PublishAsync(EventTopics.ModelTrained, [.. Enumerable.Range(0, 5).Select(i => new OutgoingMessage($"m{i}", "k", Encoding.UTF8.GetBytes("{}")))]);
        Assert.Equal(2, (await consumer.FetchAsync(2, TimeSpan.Zero)).Count);
        using var monitor = new ConsumerLagMonitor(log, TimeProvider.System, NullLogger<ConsumerLagMonitor>.Instance);
        await monitor.StartAsync(CancellationToken.None);
        await Eventually.ValueAsync(() => Task.FromResult(monitor.Latest.Count), c => c > 0, TimeSpan.FromSeconds(10), "a first reading");

        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EventMetrics.Name)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "group" && (string?)tag.Value == "lagging")
                {
                    seen[instrument.Name] = value;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        await monitor.StopAsync(CancellationToken.None);

        Assert.Equal(5, seen["strata.events.consumer_lag"]); // 3 not delivered + 2 delivered, unacknowledged
        Assert.Equal(2, seen["strata.events.in_flight"]);
    }
}
