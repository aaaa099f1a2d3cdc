using System.Buffers;

namespace Strata.Features.Store;

/// <summary>The one implementation of sliding-window aggregates, used by online reads and offline retrieval alike.
/// Values inside a window are sorted before they are summed, so the result does not depend on the order events
/// arrived in or were read back: offline and online agree to the last bit.</summary>
public static class WindowAggregator
{
    /// <summary>Computes every aggregate of <paramref name="view"/> as of <paramref name="asOf"/> (µs since the epoch) from
    /// the entity's events (any order; values in <see cref="AggregateFeatureView.StoredColumns"/> order) into
    /// <paramref name="output"/> at <paramref name="offset"/>. Count over no events is 0, sum 0.0; mean, min, max null.</summary>
    public static void Compute(AggregateFeatureView view, IReadOnlyList<FeatureRow> events, long asOf, object?[] output, int offset)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(output);
        var columns = view.StoredColumns;
        var buffer = ArrayPool<double>.Shared.Rent(Math.Max(1, events.Count));
        try
        {
            for (var a = 0; a < view.Aggregations.Count; a++)
            {
                var aggregation = view.Aggregations[a];
                var column = IndexOf(columns, aggregation.Column);
                var from = asOf - aggregation.Window.Ticks / TimeSpan.TicksPerMicrosecond;
                var n = 0;
                foreach (var e in events)
                {
                    if (e.EventTs > from && e.EventTs <= asOf && e.Values[column] is double v)
                    {
                        buffer[n++] = v;
                    }
                }
                output[offset + a] = Aggregate(aggregation.Function, buffer.AsSpan(0, n));
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }

    private static object? Aggregate(AggregationFunction function, Span<double> values)
    {
        if (function == AggregationFunction.Count)
        {
            return (long)values.Length;
        }
        if (values.Length == 0)
        {
            return function == AggregationFunction.Sum ? 0.0 : null;
        }
        values.Sort();
        switch (function)
        {
            case AggregationFunction.Min:
                return values[0];
            case AggregationFunction.Max:
                return values[^1];
            default:
                var sum = 0.0;
                foreach (var v in values)
                {
                    sum += v;
                }
                return function == AggregationFunction.Mean ? sum / values.Length : sum;
        }
    }

    private static int IndexOf(IReadOnlyList<Contracts.Features.FeatureField> columns, string name)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i].Name == name)
            {
                return i;
            }
        }
        throw new InvalidOperationException($"column '{name}' is not stored");
    }
}
