namespace Strata.Contracts.Monitoring;

/// <summary>How served predictions over [<see cref="From"/>, <see cref="To"/>) compare with what each version saw in
/// training (<c>GET /api/monitoring/models/{model}/drift</c>).</summary>
public sealed record ModelDrift(string Model, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<VersionDrift> Versions);

/// <summary>One version: the predictions compared, each feature's drift and data quality, the score's drift, and the
/// features found drifted (largest PSI first). <see cref="Baseline"/> is false when the version has no training
/// baseline (registered from outside Strata's training): then only data quality within the window is reported.</summary>
public sealed record VersionDrift(string Version, long Predictions, bool Baseline, IReadOnlyList<FeatureDrift> Features, FeatureDrift? Score,
    IReadOnlyList<string> Drifted, DataQuality Quality);

/// <summary>One variable against its training profile. Numeric: population stability index over the training deciles
/// and the two-sample Kolmogorov-Smirnov statistic with its p-value. Categorical: PSI over the categories, the
/// chi-square goodness-of-fit statistic and p-value, and the Jensen-Shannon distance (base 2, 0 to 1). Drifted when the
/// test is significant at the configured level (Bonferroni-corrected over the version's features) and the PSI reaches
/// the configured effect size: a large window finds tiny shifts significant, a small one finds large shifts noisy.</summary>
public sealed record FeatureDrift(string Name, string Kind, long Count, double? Psi, double? Ks, double? ChiSquare, double? PValue, double? JensenShannon,
    double? Mean, double? BaselineMean, double MissingRate, double BaselineMissingRate, long OutOfRange, long UnseenCategories, bool Drifted);

/// <summary>Data quality of the window: predictions whose logged features did not match the version's (a feature
/// missing or one it does not know), values missing, outside the training range, and categories training never saw.</summary>
public sealed record DataQuality(long SchemaViolations, long MissingValues, long OutOfRange, long UnseenCategories);

/// <summary>A model's monitoring over [<see cref="From"/>, <see cref="To"/>) (<c>GET /api/monitoring/models/{model}</c>,
/// <c>strata monitor</c>): per version, drift and data quality against training, and performance on the outcomes received.</summary>
public sealed record ModelReport(string Model, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<VersionDrift> Drift,
    IReadOnlyList<VersionPerformance> Performance);
