using Strata.Contracts.Monitoring;
using Strata.Contracts.Registry;
using Strata.Registry.Rollouts;

namespace Strata.Registry.Experiments;

/// <summary>An experiment's results from each arm's figures: the metric's mean and 95% interval per arm; against the
/// control the difference with an always-valid interval and p-value (<see cref="ConfidenceSequence"/>: reading the
/// results every minute does not raise the false-positive rate above α); and the sample-ratio check.</summary>
public static class ExperimentStatistics
{
    /// <summary>A sample-ratio p-value below this is a mismatch.</summary>
    public const double SampleRatioThreshold = 0.001;

    /// <summary>One arm's sample for the metric: count, mean and variance.</summary>
    public readonly record struct Sample(long Count, double Mean, double Variance);

    public static Sample SampleOf(string metric, VersionPerformance? figures)
    {
        if (figures is null)
        {
            return default;
        }
        return metric switch
        {
            ExperimentSpec.LogLoss => new(figures.Labelled, figures.LossMean ?? 0, figures.LossVariance ?? 0),
            ExperimentSpec.ValueMean => PerExposure(figures.Predictions, figures.ValueSum, figures.ValueSquareSum),
            _ => PerExposure(figures.Predictions, figures.LabelSum, figures.LabelSquareSum),
        };
    }

    /// <summary>Mean and sample variance of an outcome per exposure from sums (exposures without an outcome count 0).</summary>
    public static Sample PerExposure(long n, double sum, double squareSum)
    {
        if (n == 0)
        {
            return default;
        }
        var mean = sum / n;
        return new(n, mean, n < 2 ? 0 : Math.Max(0, (squareSum - (n * mean * mean)) / (n - 1)));
    }

    public static IReadOnlyList<ArmResult> Compare(ExperimentSpec spec, IReadOnlyList<(string Arm, int Version, int Weight, long Exposures, long Outcomes, Sample Sample)> arms)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(arms);
        var control = arms[0].Sample;
        var results = new List<ArmResult>(arms.Count);
        foreach (var (arm, version, weight, exposures, outcomes, sample) in arms)
        {
            double? mean = null, low = null, high = null, difference = null, differenceLow = null, differenceHigh = null, p = null;
            if (sample.Count > 0)
            {
                mean = sample.Mean;
                var se = Math.Sqrt(sample.Variance / sample.Count);
                (low, high) = (sample.Mean - (1.959964 * se), sample.Mean + (1.959964 * se));
            }
            if (results.Count > 0 && sample.Count >= 2 && control.Count >= 2)
            {
                var pooled = ((sample.Variance * (sample.Count - 1)) + (control.Variance * (control.Count - 1))) / (sample.Count + control.Count - 2);
                var tau = ConfidenceSequence.Tau(0, pooled, spec.MinSamples);
                difference = sample.Mean - control.Mean;
                (differenceLow, differenceHigh) = ConfidenceSequence.Difference(sample.Mean, sample.Variance, sample.Count, control.Mean, control.Variance, control.Count,
                    spec.Alpha, tau);
                p = ConfidenceSequence.PValue(difference.Value, Math.Max((sample.Variance / sample.Count) + (control.Variance / control.Count), 1e-18), tau);
            }
            results.Add(new ArmResult(arm, version, weight, exposures, outcomes, mean, low, high, difference, differenceLow, differenceHigh, p, p < spec.Alpha));
        }
        return results;
    }

    /// <summary>Pearson's chi-square of the exposures against the weights.</summary>
    public static SampleRatioCheck SampleRatio(IReadOnlyList<long> exposures, IReadOnlyList<int> weights)
    {
        ArgumentNullException.ThrowIfNull(exposures);
        ArgumentNullException.ThrowIfNull(weights);
        var total = exposures.Sum();
        var weightSum = (double)weights.Sum();
        var chi = 0.0;
        for (var i = 0; i < exposures.Count; i++)
        {
            var expected = total * weights[i] / weightSum;
            chi += expected == 0 ? 0 : (exposures[i] - expected) * (exposures[i] - expected) / expected;
        }
        var df = exposures.Count - 1;
        var p = total == 0 ? 1 : ChiSquareSurvival(chi, df);
        return new SampleRatioCheck(chi, df, p, p < SampleRatioThreshold);
    }

    /// <summary>P(X ≥ x) for X chi-square with <paramref name="df"/> degrees of freedom: the regularized upper incomplete
    /// gamma Q(df/2, x/2), by its series below a + 1 and its continued fraction above (Numerical Recipes, 6.2).</summary>
    public static double ChiSquareSurvival(double x, int df)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(df);
        if (x <= 0)
        {
            return 1;
        }
        var a = df / 2.0;
        var z = x / 2.0;
        var lnGammaA = LogGamma(a);
        if (z < a + 1)
        {
            double sum = 1 / a, term = sum, ap = a;
            for (var n = 0; n < 1000 && Math.Abs(term) > Math.Abs(sum) * 1e-15; n++)
            {
                ap++;
                term *= z / ap;
                sum += term;
            }
            return Math.Clamp(1 - (sum * Math.Exp(-z + (a * Math.Log(z)) - lnGammaA)), 0, 1);
        }
        double b = z + 1 - a, c = 1 / 1e-300, d = 1 / b, h = d;
        for (var i = 1; i < 1000; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = (an * d) + b;
            d = Math.Abs(d) < 1e-300 ? 1e-300 : d;
            c = b + (an / c);
            c = Math.Abs(c) < 1e-300 ? 1e-300 : c;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-15)
            {
                break;
            }
        }
        return Math.Clamp(Math.Exp(-z + (a * Math.Log(z)) - lnGammaA) * h, 0, 1);
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, n = 9).</summary>
    public static double LogGamma(double x)
    {
        ReadOnlySpan<double> g =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        if (x < 0.5)
        {
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }
        x -= 1;
        var sum = g[0];
        for (var i = 1; i < 9; i++)
        {
            sum += g[i] / (x + i);
        }
        var t = x + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }
}
