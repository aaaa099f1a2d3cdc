namespace Strata.Gateway.Resilience;

/// <summary>How many retries the gateway may make (Finagle's and Envoy's retry budgets): over the last window, retries
/// may add <see cref="RetryOptions.BudgetPercent"/> of the requests plus <see cref="RetryOptions.MinRetriesPerSecond"/>
/// per second. When a module is down, its callers' retries then add a fifth to the load, not double it. Counts live in
/// one-second buckets; one interlocked increment per request.</summary>
public sealed class RetryBudget
{
    private readonly TimeProvider _time;
    private readonly int _percent;
    private readonly long _reserve;
    private readonly Bucket[] _buckets;

    public RetryBudget(RetryOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _percent = options.BudgetPercent;
        var seconds = Math.Max(1, (int)Math.Ceiling(options.BudgetWindow.TotalSeconds));
        _reserve = (long)options.MinRetriesPerSecond * seconds;
        _buckets = [.. Enumerable.Range(0, seconds).Select(_ => new Bucket())];
    }

    /// <summary>Counts a request (each first attempt).</summary>
    public void Request() => Interlocked.Increment(ref Current().Requests);

    /// <summary>Whether one more retry fits the budget; if so, it is counted.</summary>
    public bool TryRetry()
    {
        if (!CanRetry())
        {
            return false;
        }
        Interlocked.Increment(ref Current().Retries);
        return true;
    }

    /// <summary>Whether one more retry fits the budget now (counting nothing).</summary>
    public bool CanRetry()
    {
        long requests = 0, retries = 0;
        var second = Second();
        foreach (var bucket in _buckets)
        {
            if (second - Volatile.Read(ref bucket.Second) < _buckets.Length)
            {
                requests += Volatile.Read(ref bucket.Requests);
                retries += Volatile.Read(ref bucket.Retries);
            }
        }
        return (retries + 1) * 100 <= requests * _percent + _reserve * 100;
    }

    private long Second() => _time.GetUtcNow().ToUnixTimeSeconds();

    private Bucket Current()
    {
        var second = Second();
        var bucket = _buckets[second % _buckets.Length];
        var seen = Volatile.Read(ref bucket.Second);
        if (seen != second && Interlocked.CompareExchange(ref bucket.Second, second, seen) == seen)
        {
            // The first request of a new second empties the bucket it reuses (a count racing this reset is lost: a
            // budget, not a ledger).
            Volatile.Write(ref bucket.Requests, 0);
            Volatile.Write(ref bucket.Retries, 0);
        }
        return bucket;
    }

    private sealed class Bucket
    {
        public long Second = -1;
        public long Requests;
        public long Retries;
    }
}
