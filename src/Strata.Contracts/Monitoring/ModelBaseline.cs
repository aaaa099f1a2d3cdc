namespace Strata.Contracts.Monitoring;

/// <summary>What a model version saw in training, kept as a content-addressed artifact (the version's param
/// <see cref="Param"/>) for drift to compare served predictions against: a profile of each feature over the training
/// rows and of the scores on the holdout.</summary>
public sealed record ModelBaseline(int Rows, IReadOnlyList<DistributionProfile> Features, DistributionProfile? Score)
{
    /// <summary>The registry param of a version that names its baseline artifact (sha256).</summary>
    public const string Param = "baseline_sha256";
}

/// <summary>One variable's distribution. Numeric: ten bins cut at the deciles (<see cref="Edges"/>, the upper bound of
/// each bin but the last, which is open), the share of values in each, and 200 evenly spaced quantiles
/// (<see cref="Quantiles"/>) for Kolmogorov-Smirnov. Categorical (at most <see cref="MaxCategories"/> distinct values,
/// such as flags and codes): <see cref="Categories"/> and the share of each. Missing values (NaN) are counted apart.</summary>
public sealed record DistributionProfile(string Name, string Kind, long Count, long Missing, double Min, double Max, double Mean, double StdDev,
    IReadOnlyList<double> Edges, IReadOnlyList<double> Proportions, IReadOnlyList<double> Quantiles, IReadOnlyList<double>? Categories)
{
    public const string Numeric = "numeric";
    public const string Categorical = "categorical";
    public const int MaxCategories = 10;
    public const int Bins = 10;
    public const int QuantileCount = 200;

    /// <summary>Profiles <paramref name="values"/> (NaN counts as missing).</summary>
    public static DistributionProfile Of(string name, IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var present = values.Where(v => !double.IsNaN(v)).ToArray();
        var missing = values.Count - present.Length;
        if (present.Length == 0)
        {
            return new DistributionProfile(name, Numeric, 0, missing, double.NaN, double.NaN, double.NaN, double.NaN, [], [], [], null);
        }
        Array.Sort(present);
        var mean = present.Average();
        var std = Math.Sqrt(present.Sum(v => (v - mean) * (v - mean)) / present.Length);
        var distinct = present.Distinct().Take(MaxCategories + 1).ToArray();
        if (distinct.Length <= MaxCategories)
        {
            var proportions = distinct.Select(c => present.Count(v => v == c) / (double)present.Length).ToArray();
            return new DistributionProfile(name, Categorical, present.Length, missing, present[0], present[^1], mean, std, [], proportions, [], distinct);
        }
        // Decile edges, without repeats (a value that fills several deciles is one edge: its bin holds them all).
        var edges = Enumerable.Range(1, Bins - 1).Select(i => Quantile(present, i / (double)Bins)).Distinct().ToArray();
        var counts = new double[edges.Length + 1];
        foreach (var v in present)
        {
            counts[BinOf(edges, v)]++;
        }
        var quantiles = Enumerable.Range(0, QuantileCount).Select(i => Quantile(present, (i + 0.5) / QuantileCount)).ToArray();
        return new DistributionProfile(name, Numeric, present.Length, missing, present[0], present[^1], mean, std, edges,
            [.. counts.Select(c => c / present.Length)], quantiles, null);
    }

    /// <summary>The bin of <paramref name="value"/>: the first edge it does not exceed, or the last (open) bin.</summary>
    public static int BinOf(IReadOnlyList<double> edges, double value)
    {
        ArgumentNullException.ThrowIfNull(edges);
        int lo = 0, hi = edges.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (value <= edges[mid])
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /// <summary>Linear interpolation between order statistics (type 7) of sorted values.</summary>
    public static double Quantile(double[] sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        var h = (sorted.Length - 1) * p;
        var lo = (int)Math.Floor(h);
        return lo + 1 < sorted.Length ? sorted[lo] + ((h - lo) * (sorted[lo + 1] - sorted[lo])) : sorted[lo];
    }
}
