namespace Strata.Events;

/// <summary>What one subscription of this process has done since it started.</summary>
public sealed record SubscriptionStats(string Topic, string Group, string Consumer, long Handled, long Retries, long DeadLettered, long Duplicates, long Redelivered);
