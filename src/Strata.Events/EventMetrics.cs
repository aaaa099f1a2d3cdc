using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Strata.Events;

/// <summary>The Events module's one <see cref="ActivitySource"/> and one <see cref="Meter"/> (constant names).</summary>
public static class EventMetrics
{
    public const string Name = "Strata.Events";
    public static readonly ActivitySource ActivitySource = new(Name);
    public static readonly Meter Meter = new(Name);
    public static readonly Counter<long> Published = Meter.CreateCounter<long>("strata.events.published", description: "Events stored by the broker");
    public static readonly Counter<long> Handled = Meter.CreateCounter<long>("strata.events.handled", description: "Events handled by a consumer group");
    public static readonly Counter<long> Redelivered = Meter.CreateCounter<long>("strata.events.redelivered", description: "Deliveries that were repeats");
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("strata.events.retries", description: "Handler attempts after a failure");
    public static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>("strata.events.dead_lettered", description: "Events a group gave up on");
    public static readonly Counter<long> Duplicates = Meter.CreateCounter<long>("strata.events.duplicates", description: "Redelivered events the inbox skipped");

    public static TagList Tags(string topic, string group) => new() { { "topic", topic }, { "group", group } };
}
