namespace Strata.Contracts.Events;

/// <summary>The data of a <c>features.computed</c> event: which views got new rows, how many, where, and their event-time range.</summary>
public sealed record FeaturesComputedEvent(string Source, IReadOnlyList<string> FeatureViews, int Rows, string To, string MinEventTimestamp, string MaxEventTimestamp);
