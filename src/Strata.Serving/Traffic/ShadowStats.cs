namespace Strata.Serving.Traffic;

/// <summary>How a shadow version's answers compare with the primary's, since its policy came into force: rows
/// compared, the share on which they agree (the same side of 0.5 when both are probabilities, within 1% otherwise),
/// the distribution of |shadow − primary|, each side's latency, and mirrored requests that failed in the shadow or
/// were dropped because it fell behind (the primary never waits for it).</summary>
public sealed class ShadowStats(string version)
{
    private long _mirrored;
    private long _rows;
    private long _agreed;
    private long _failed;
    private long _dropped;
    private long _incomparable;
    private double _deltaSum;

    public string Version => version;

    public GeometricHistogram AbsoluteDelta { get; } = new(1e-9, 1e6);

    public GeometricHistogram PrimaryLatencyMs { get; } = new(1e-3, 60_000);

    public GeometricHistogram ShadowLatencyMs { get; } = new(1e-3, 60_000);

    public long Mirrored => Interlocked.Read(ref _mirrored);

    public long Rows => Interlocked.Read(ref _rows);

    public long Agreed => Interlocked.Read(ref _agreed);

    public long Failed => Interlocked.Read(ref _failed);

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Requests whose answers could not be set side by side (a different number of rows, or no numeric output).</summary>
    public long Incomparable => Interlocked.Read(ref _incomparable);

    public double? MeanDelta => Rows == 0 ? null : Volatile.Read(ref _deltaSum) / Rows;

    public void Queued() => Interlocked.Increment(ref _mirrored);

    public void Drop() => Interlocked.Increment(ref _dropped);

    public void Fail() => Interlocked.Increment(ref _failed);

    /// <summary>Records one mirrored request's answers, row by row.</summary>
    public void Compare(ReadOnlySpan<double> primary, ReadOnlySpan<double> shadow, double primaryMs, double shadowMs)
    {
        PrimaryLatencyMs.Record(primaryMs);
        ShadowLatencyMs.Record(shadowMs);
        if (primary.Length != shadow.Length || primary.Length == 0)
        {
            Interlocked.Increment(ref _incomparable);
            return;
        }
        for (var i = 0; i < primary.Length; i++)
        {
            var (p, s) = (primary[i], shadow[i]);
            var delta = s - p;
            AbsoluteDelta.Record(Math.Abs(delta));
            AddDelta(delta);
            Interlocked.Increment(ref _rows);
            if (Agree(p, s))
            {
                Interlocked.Increment(ref _agreed);
            }
        }
    }

    /// <summary>Both probabilities: the same decision at 0.5. Otherwise within 1% of the larger magnitude (or both 0).</summary>
    public static bool Agree(double primary, double shadow) =>
        primary is >= 0 and <= 1 && shadow is >= 0 and <= 1
            ? (primary >= 0.5) == (shadow >= 0.5)
            : Math.Abs(shadow - primary) <= 0.01 * Math.Max(Math.Abs(primary), Math.Abs(shadow));

    private void AddDelta(double delta)
    {
        double seen, sum;
        do
        {
            seen = Volatile.Read(ref _deltaSum);
            sum = seen + delta;
        }
        while (Interlocked.CompareExchange(ref _deltaSum, sum, seen) != seen);
    }
}
