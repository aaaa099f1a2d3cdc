using Strata.Features.Store;

namespace Strata.Features.Online;

/// <summary>The online store: the latest row per entity key of each stored view, and the recent events per entity key
/// of each aggregate view. Writes are durable when they return; a row never replaces a newer one
/// (<see cref="FeatureRow.Supersedes"/>), so late or replayed data cannot move a value back in time.</summary>
public interface IOnlineStore
{
    /// <summary>"embedded" or "redis".</summary>
    string Kind { get; }

    /// <summary>Writes rows of a stored view; for each entity key the row with the latest (event, created) time wins.</summary>
    Task<int> WriteLatestAsync(EntityFeatureView view, IReadOnlyList<FeatureRow> rows, CancellationToken cancellationToken = default);

    /// <summary>Appends events of an aggregate view; per key, events older than the newest minus the view's longest window are dropped.</summary>
    Task AppendEventsAsync(AggregateFeatureView view, IReadOnlyList<FeatureRow> rows, CancellationToken cancellationToken = default);

    /// <summary>Reads, in one round trip, the latest row (stored views) or the events in <c>(asOf - longest window, asOf]</c>
    /// (aggregate views) of each entity key of each read. A null key reads nothing.</summary>
    Task<OnlineReadResult[]> ReadAsync(IReadOnlyList<OnlineRead> reads, long asOf, CancellationToken cancellationToken = default);
}

/// <summary>One view to read for the given entity keys.</summary>
public sealed record OnlineRead(EntityFeatureView View, string?[] EntityKeys);

/// <summary>What one <see cref="OnlineRead"/> found: per entity key, the latest row (<see cref="Latest"/>) of a stored
/// view or the events (<see cref="Events"/>) of an aggregate view.</summary>
public sealed class OnlineReadResult(FeatureRow?[]? latest, IReadOnlyList<FeatureRow>[]? events)
{
    public FeatureRow?[]? Latest { get; } = latest;

    public IReadOnlyList<FeatureRow>[]? Events { get; } = events;
}
