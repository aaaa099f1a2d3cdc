namespace Strata.Serving.Traffic;

/// <summary>A lock-free histogram of non-negative values in geometric buckets (each 2% wider than the last, from
/// <c>min</c> to <c>max</c>; below <c>min</c> counts as zero, above <c>max</c> as <c>max</c>): quantiles within 2%,
/// recorded with one interlocked increment.</summary>
public sealed class GeometricHistogram
{
    private const double Growth = 1.02;
    private readonly double _min;
    private readonly long[] _counts;
    private readonly double _logGrowth = Math.Log(Growth);
    private long _total;

    public GeometricHistogram(double min, double max)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(min);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(max, min);
        _min = min;
        _counts = new long[2 + (int)Math.Ceiling(Math.Log(max / min) / _logGrowth)];
    }

    public long Count => Interlocked.Read(ref _total);

    public void Record(double value)
    {
        var bucket = !(value >= _min) ? 0 : Math.Min(_counts.Length - 1, 1 + (int)(Math.Log(value / _min) / _logGrowth));
        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>The value below which <paramref name="q"/> of the recordings fall (a bucket's upper bound), or null when empty.</summary>
    public double? Quantile(double q)
    {
        var total = Count;
        if (total == 0)
        {
            return null;
        }
        var rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return i == 0 ? 0 : _min * Math.Pow(Growth, i);
            }
        }
        return _min * Math.Pow(Growth, _counts.Length - 1);
    }
}
