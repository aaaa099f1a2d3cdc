using System.ComponentModel.DataAnnotations;
using Strata.Events.Embedded;

namespace Strata.Events;

/// <summary>Settings of the bus (<c>Strata:Events</c>): which broker, where it is, how long events are kept.</summary>
public sealed class EventsOptions
{
    public const string Section = "Strata:Events";

    /// <summary><c>embedded</c> (default: a durable log in the data directory, served to other processes by the Events
    /// module), <c>nats</c> (JetStream at <see cref="Nats"/>) or <c>redis</c> (Streams at <see cref="Redis"/>).</summary>
    [Required, RegularExpression("^(embedded|nats|redis)$", ErrorMessage = "Strata:Events:Backend must be embedded, nats or redis")]
    public string Backend { get; set; } = "embedded";

    /// <summary>NATS server URL, e.g. <c>nats://127.0.0.1:4222</c>.</summary>
    public string? Nats { get; set; }

    /// <summary>StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c>.</summary>
    public string? Redis { get; set; }

    /// <summary>Prefix of stream names / keys on a shared broker (lets several Strata installations share one).</summary>
    [RegularExpression("^[A-Za-z0-9_-]{1,32}$")]
    public string Prefix { get; set; } = "strata";

    /// <summary>How long a broker keeps events (also the audit log's retention).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>A publish of an id seen within this window is not stored again.</summary>
    public TimeSpan DedupWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Partitions per topic on NATS and Redis (order per key across a group's members comes from each
    /// partition being read by one member at a time); the same in every process. The embedded log needs none.</summary>
    [Range(1, Transport.Partitioning.PartitionOptions.MaxPartitions)]
    public int Partitions { get; set; } = 4;

    /// <summary>How long a silent group member keeps its partitions before the others take them over.</summary>
    public TimeSpan MemberTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal Transport.Partitioning.PartitionOptions Partitioning => new() { Partitions = Partitions, MemberTimeout = MemberTimeout };

    public EmbeddedLogOptions Embedded { get; set; } = new();

    /// <summary>Publishing from outside (<c>POST /api/events/{topic}</c>).</summary>
    public IngressOptions Ingress { get; set; } = new();
}

/// <summary>Which topics take CloudEvents from outside (<c>Strata:Events:Ingress</c>).</summary>
public sealed class IngressOptions
{
    /// <summary>The platform topic an outside producer may write: the card transactions the fraud system scores. Every
    /// other platform topic carries facts and commands Strata's modules publish after their own checks (a model was
    /// trained, an alias moved, a training was asked for), which no one outside may forge.</summary>
    public static IReadOnlyList<string> PlatformTopicsOpen { get; } = [Contracts.Events.EventTopics.CardTransactions, Contracts.Events.EventTopics.PredictionFeedback];

    /// <summary>Route segments under <c>/api/events</c> that are not topics.</summary>
    public static IReadOnlySet<string> ReservedNames { get; } = new HashSet<string>(["dead-letters", "replay", "consumers", "topics"], StringComparer.Ordinal);

    /// <summary>Topics events may be published to from outside; unset: <see cref="PlatformTopicsOpen"/>. Topics of your
    /// own (not platform topics) are recorded in the audit log like the platform's.</summary>
    public string[]? Topics { get; set; }

    public IReadOnlySet<string> OpenTopics => _open ??= new HashSet<string>(Topics ?? PlatformTopicsOpen, StringComparer.Ordinal);

    private HashSet<string>? _open;

    /// <summary>Null when <see cref="Topics"/> can be opened; else why not.</summary>
    public string? Problem() => (Topics ?? []).Select(t =>
            !EmbeddedEventLog.IsValidName(t) ? $"'{t}' is not a topic name (letters, digits, '.', '_' or '-')"
            : ReservedNames.Contains(t) ? $"'{t}' is a route of the events API, not a topic"
            : Contracts.Events.EventTopics.All.Contains(t) && !PlatformTopicsOpen.Contains(t) ? $"{t} carries what Strata's modules publish; of the platform topics only {string.Join(", ", PlatformTopicsOpen)} takes events from outside"
            : null).FirstOrDefault(p => p is not null);
}
