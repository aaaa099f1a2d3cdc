namespace Strata.Contracts.Events;

/// <summary>Data of <c>model.drift_detected</c>: served predictions of <see cref="ModelVersion"/> over [<see cref="From"/>,
/// <see cref="To"/>) drifted from what it saw in training: the features found drifted (largest PSI first) and the
/// score's PSI. Published by Monitoring at most once per version per window.</summary>
public sealed record ModelDriftDetectedEvent(string Model, string ModelVersion, DateTimeOffset From, DateTimeOffset To, long Predictions,
    IReadOnlyList<DriftedFeature> Features, double? ScorePsi);

/// <summary>A drifted feature: its PSI and the test's p-value.</summary>
public sealed record DriftedFeature(string Name, double Psi, double PValue);

/// <summary>Data of <c>model.performance_degraded</c>: on the outcomes received for predictions over [<see cref="From"/>,
/// <see cref="To"/>), <see cref="Metric"/> of <see cref="ModelVersion"/> is worse than at training (its holdout figure,
/// <see cref="Baseline"/>) by more than the configured tolerance.</summary>
public sealed record ModelPerformanceDegradedEvent(string Model, string ModelVersion, DateTimeOffset From, DateTimeOffset To, long Labelled, string Metric,
    double Value, double Baseline);
