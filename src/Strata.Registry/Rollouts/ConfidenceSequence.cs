namespace Strata.Registry.Rollouts;

/// <summary>Always-valid confidence intervals for a difference of means (Johari, Pekelis and Walsh, "Always valid
/// inference", 2017: the mixture sequential probability ratio test with a normal mixing distribution of variance τ²,
/// inverted). With V the variance of the estimate (σ²ₐ/nₐ + σ²ᵦ/nᵦ), the interval is Δ̂ ± √(2V(V+τ²)/τ² · ln(√((V+τ²)/V)/α)),
/// and it covers the true difference at every sample size at once with probability at least 1 − α: a decision taken
/// the first time the interval clears a threshold, checking after every observation, is wrong at most α of the time.</summary>
public static class ConfidenceSequence
{
    /// <summary>The interval for meanA − meanB; (−∞, ∞) when either side has fewer than two observations.</summary>
    public static (double Low, double High) Difference(double meanA, double varianceA, long countA, double meanB, double varianceB, long countB,
        double alpha, double tau)
    {
        if (countA < 2 || countB < 2)
        {
            return (double.NegativeInfinity, double.PositiveInfinity);
        }
        var v = Math.Max(varianceA / countA + varianceB / countB, 1e-18);
        var radius = Radius(v, alpha, tau);
        var difference = meanA - meanB;
        return (difference - radius, difference + radius);
    }

    /// <summary>The mixing scale a gate uses: the standard error of a mean of <paramref name="minimum"/> outcomes (so the
    /// test is sharpest around the sample the gate waits for; the interval widens only logarithmically past it), and
    /// never below the margin. Loss scales differ by model (a log-loss, a squared error in dollars²), so τ follows the
    /// observed spread rather than a constant.</summary>
    public static double Tau(double margin, double pooledVariance, long minimum) =>
        Math.Max(Math.Max(margin, Math.Sqrt(Math.Max(pooledVariance, 0) / Math.Max(minimum, 1))), 1e-9);

    /// <summary>The half-width for an estimate of variance <paramref name="v"/>.</summary>
    public static double Radius(double v, double alpha, double tau)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tau);
        var t2 = tau * tau;
        return Math.Sqrt(2 * v * (v + t2) / t2 * Math.Log(Math.Sqrt((v + t2) / v) / alpha));
    }

    /// <summary>The always-valid p-value of "no difference" after these observations: min(1, 1/Λ) with Λ the mixture
    /// likelihood ratio √(V/(V+τ²))·exp(τ²Δ̂²/(2V(V+τ²))). Taking the running minimum over looks keeps it valid.</summary>
    public static double PValue(double difference, double v, double tau)
    {
        var t2 = tau * tau;
        v = Math.Max(v, 1e-18);
        var logLambda = 0.5 * Math.Log(v / (v + t2)) + t2 * difference * difference / (2 * v * (v + t2));
        return logLambda <= 0 ? 1 : Math.Min(1, Math.Exp(-logLambda));
    }
}
