namespace Strata.Features.Store;

/// <summary>One stored row of a view for one entity key: event and created timestamps (µs since the Unix epoch, UTC)
/// and the values of the view's stored columns, typed as <see cref="double"/>, <see cref="long"/>, <see cref="string"/>,
/// <see cref="bool"/> or null.</summary>
public sealed record FeatureRow(string EntityKey, long EventTs, long CreatedTs, object?[] Values)
{
    /// <summary>Whether this row replaces <paramref name="other"/> as an entity's latest value: a later event time wins,
    /// and for equal event times the later created time.</summary>
    public bool Supersedes(FeatureRow? other) =>
        other is null || EventTs > other.EventTs || (EventTs == other.EventTs && CreatedTs >= other.CreatedTs);
}
