namespace Strata.Contracts.Events;

/// <summary>How one subscription consumes. <see cref="MaxInFlight"/> bounds the events fetched and not yet
/// acknowledged (backpressure); <see cref="Concurrency"/> how many distinct keys are handled at once (events of one
/// key are always handled one after another, in order).</summary>
public sealed record SubscriptionOptions
{
    public int MaxInFlight { get; init; } = 64;

    /// <summary>Where a group that does not exist yet starts: at the oldest retained event (true: nothing published
    /// before the group's first member ran is missed; what the platform's own consumers use) or at the end of the topic
    /// (false, the default: only events published from now on).</summary>
    public bool FromStart { get; init; }

    public int Concurrency { get; init; } = 1;

    /// <summary>Attempts per delivery before the event is dead-lettered.</summary>
    public int MaxAttempts { get; init; } = 5;

    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a fetched event stays with this member before the group gives it to another.</summary>
    public TimeSpan AckWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>An event delivered this many times (e.g. its handler crashed the process each time) is dead-lettered
    /// without another attempt.</summary>
    public int MaxDeliveries { get; init; } = 10;
}
