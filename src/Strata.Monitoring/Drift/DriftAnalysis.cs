using Strata.Contracts.Monitoring;

namespace Strata.Monitoring.Drift;

/// <summary>One served prediction as drift sees it: its score and the features the model saw (null when the log did not
/// carry them).</summary>
public readonly record struct ServedRow(double Prediction, IReadOnlyDictionary<string, double>? Features);

/// <summary>Thresholds of drift: a feature is drifted when its test is significant at <see cref="Alpha"/> divided by the
/// number of features tested (Bonferroni: the chance of any false alarm in a version's check stays below
/// <see cref="Alpha"/>) and its PSI reaches <see cref="Psi"/> (0.1 is the usual "moderate shift"); windows of fewer than
/// <see cref="MinPredictions"/> predictions are reported, never flagged.</summary>
public sealed record DriftThresholds(double Alpha = 0.01, double Psi = 0.1, int MinPredictions = 100);

/// <summary>Served predictions of one version against its training baseline: population stability index and
/// Kolmogorov-Smirnov for numeric variables, PSI, chi-square and Jensen-Shannon for categorical ones, and data quality.</summary>
public static class DriftAnalysis
{
    /// <summary>Floor of a bin's share in PSI (an empty bin would make it infinite).</summary>
    private const double Epsilon = 1e-4;

    public static VersionDrift Analyze(string version, IReadOnlyList<ServedRow> rows, ModelBaseline? baseline, DriftThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(thresholds);
        if (baseline is null)
        {
            var missing = rows.Sum(r => r.Features?.Values.Count(double.IsNaN) ?? 0);
            return new VersionDrift(version, rows.Count, false, [], null, [], new DataQuality(rows.Count(r => r.Features is null), missing, 0, 0));
        }
        var names = baseline.Features.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var violations = rows.LongCount(r => r.Features is null || r.Features.Count != names.Count || !r.Features.Keys.All(names.Contains));
        var tested = baseline.Features.Count(f => f.Count > 0);
        var features = baseline.Features.Select(profile =>
        {
            var values = new List<double>(rows.Count);
            foreach (var row in rows)
            {
                if (row.Features is not null)
                {
                    values.Add(row.Features.TryGetValue(profile.Name, out var v) ? v : double.NaN);
                }
            }
            return Compare(profile, values, thresholds, Math.Max(1, tested));
        }).ToList();
        var score = baseline.Score is { Count: > 0 } scores ? Compare(scores, [.. rows.Select(r => r.Prediction)], thresholds, 1) : null;
        var quality = new DataQuality(violations, features.Sum(f => (long)Math.Round(f.MissingRate * f.Count)), features.Sum(f => f.OutOfRange),
            features.Sum(f => f.UnseenCategories));
        var drifted = features.Where(f => f.Drifted).OrderByDescending(f => f.Psi).Select(f => f.Name).ToList();
        return new VersionDrift(version, rows.Count, true, features, score, drifted, quality);
    }

    /// <summary>One variable's window against its profile; <paramref name="tests"/> is the Bonferroni divisor.</summary>
    public static FeatureDrift Compare(DistributionProfile profile, IReadOnlyList<double> window, DriftThresholds thresholds, int tests)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(thresholds);
        var present = window.Where(v => !double.IsNaN(v)).ToArray();
        var missingRate = window.Count == 0 ? 0 : (window.Count - present.Length) / (double)window.Count;
        var baselineMissing = profile.Count + profile.Missing == 0 ? 0 : profile.Missing / (double)(profile.Count + profile.Missing);
        double? mean = present.Length == 0 ? null : present.Average();
        if (present.Length == 0 || profile.Count == 0)
        {
            return new FeatureDrift(profile.Name, profile.Kind, window.Count, null, null, null, null, null, mean, Nullable(profile.Mean), missingRate, baselineMissing,
                0, 0, false);
        }
        double psi, pValue;
        double? ks = null, chi = null, js = null;
        long outOfRange = 0, unseen = 0;
        if (profile.Kind == DistributionProfile.Categorical && profile.Categories is { } categories)
        {
            var counts = new double[categories.Count];
            foreach (var v in present)
            {
                var i = IndexOf(categories, v);
                if (i < 0)
                {
                    unseen++;
                }
                else
                {
                    counts[i]++;
                }
            }
            var seen = present.Length - unseen;
            var shares = counts.Select(c => seen == 0 ? 0 : c / seen).ToArray();
            psi = Psi(shares, profile.Proportions);
            (chi, pValue) = ChiSquare(counts, [.. profile.Proportions.Select(p => p * profile.Count)]);
            js = JensenShannon(shares, profile.Proportions);
        }
        else
        {
            var counts = new double[profile.Proportions.Count];
            foreach (var v in present)
            {
                counts[DistributionProfile.BinOf(profile.Edges, v)]++;
                if (v < profile.Min || v > profile.Max)
                {
                    outOfRange++;
                }
            }
            psi = Psi([.. counts.Select(c => c / present.Length)], profile.Proportions);
            Array.Sort(present);
            var d = KolmogorovSmirnov(present, profile.Quantiles);
            ks = d;
            var effective = present.Length * (double)profile.Count / (present.Length + profile.Count);
            pValue = KolmogorovPValue(d, effective);
        }
        var drifted = present.Length >= thresholds.MinPredictions && pValue < thresholds.Alpha / tests && psi >= thresholds.Psi;
        return new FeatureDrift(profile.Name, profile.Kind, window.Count, psi, ks, chi, pValue, js, mean, Nullable(profile.Mean), missingRate, baselineMissing,
            outOfRange, unseen, drifted);
    }

    private static double? Nullable(double value) => double.IsNaN(value) ? null : value;

    private static int IndexOf(IReadOnlyList<double> categories, double value)
    {
        for (var i = 0; i < categories.Count; i++)
        {
            if (categories[i] == value)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Population stability index: sum over bins of (actual − expected) × ln(actual / expected), shares floored.</summary>
    public static double Psi(IReadOnlyList<double> actual, IReadOnlyList<double> expected)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(expected);
        var psi = 0.0;
        for (var i = 0; i < expected.Count; i++)
        {
            var a = Math.Max(actual[i], Epsilon);
            var e = Math.Max(expected[i], Epsilon);
            psi += (a - e) * Math.Log(a / e);
        }
        return psi;
    }

    /// <summary>The largest distance between the window's empirical CDF and the training CDF, which the profile's evenly
    /// spaced quantiles give piecewise linearly.</summary>
    public static double KolmogorovSmirnov(double[] sorted, IReadOnlyList<double> quantiles)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        ArgumentNullException.ThrowIfNull(quantiles);
        var d = 0.0;
        var n = sorted.Length;
        for (var i = 0; i < n; i++)
        {
            // Only the last of equal values is a step of the window's CDF.
            if (i + 1 < n && sorted[i + 1] == sorted[i])
            {
                continue;
            }
            var baseline = TrainingCdf(quantiles, sorted[i]);
            var below = i - CountEqualBefore(sorted, i);
            d = Math.Max(d, Math.Max(Math.Abs(((i + 1.0) / n) - baseline), Math.Abs((below / (double)n) - baseline)));
        }
        return d;
    }

    private static int CountEqualBefore(double[] sorted, int i)
    {
        var j = i;
        while (j > 0 && sorted[j - 1] == sorted[i])
        {
            j--;
        }
        return i - j;
    }

    /// <summary>Training's CDF at <paramref name="x"/>: quantile k of m sits at (k + 0.5) / m; linear between them.</summary>
    private static double TrainingCdf(IReadOnlyList<double> quantiles, double x)
    {
        var m = quantiles.Count;
        if (x < quantiles[0])
        {
            return 0;
        }
        if (x >= quantiles[m - 1])
        {
            return 1;
        }
        int lo = 0, hi = m - 1;
        while (hi - lo > 1)
        {
            var mid = (lo + hi) / 2;
            if (quantiles[mid] <= x)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }
        var span = quantiles[hi] - quantiles[lo];
        var t = span <= 0 ? 1 : (x - quantiles[lo]) / span;
        return (lo + 0.5 + t) / m;
    }

    /// <summary>P(D ≥ d) for two samples of effective size <paramref name="effective"/> (n·m/(n+m)): the Kolmogorov
    /// distribution with Stephens' correction, λ = (√ne + 0.12 + 0.11/√ne)·d.</summary>
    public static double KolmogorovPValue(double d, double effective)
    {
        var root = Math.Sqrt(effective);
        var lambda = (root + 0.12 + (0.11 / root)) * d;
        if (lambda < 0.2)
        {
            return 1;
        }
        var sum = 0.0;
        for (var k = 1; k <= 100; k++)
        {
            var term = Math.Exp(-2 * k * k * lambda * lambda);
            sum += (k % 2 == 1 ? 2 : -2) * term;
            if (term < 1e-12)
            {
                break;
            }
        }
        return Math.Clamp(sum, 0, 1);
    }

    /// <summary>Chi-square test of homogeneity of the window's counts and training's (a 2 × k table: both are samples).</summary>
    public static (double Statistic, double PValue) ChiSquare(IReadOnlyList<double> window, IReadOnlyList<double> training)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(training);
        double n = window.Sum(), m = training.Sum();
        if (n == 0 || m == 0)
        {
            return (0, 1);
        }
        var statistic = 0.0;
        var df = -1;
        for (var i = 0; i < window.Count; i++)
        {
            var total = window[i] + training[i];
            if (total == 0)
            {
                continue;
            }
            df++;
            var ew = total * n / (n + m);
            var et = total * m / (n + m);
            statistic += ((window[i] - ew) * (window[i] - ew) / ew) + ((training[i] - et) * (training[i] - et) / et);
        }
        return df <= 0 ? (statistic, 1) : (statistic, MathNet.Numerics.SpecialFunctions.GammaUpperRegularized(df / 2.0, statistic / 2));
    }

    /// <summary>Jensen-Shannon distance (square root of the divergence, base 2): 0 for equal shares, 1 for disjoint ones.</summary>
    public static double JensenShannon(IReadOnlyList<double> p, IReadOnlyList<double> q)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(q);
        var divergence = 0.0;
        for (var i = 0; i < p.Count; i++)
        {
            var mid = (p[i] + q[i]) / 2;
            if (p[i] > 0)
            {
                divergence += 0.5 * p[i] * Math.Log2(p[i] / mid);
            }
            if (q[i] > 0)
            {
                divergence += 0.5 * q[i] * Math.Log2(q[i] / mid);
            }
        }
        return Math.Sqrt(Math.Max(0, divergence));
    }
}
