using System.Diagnostics;
using System.Threading.Channels;

namespace Strata.Serving.Models;

/// <summary>Adaptive micro-batching for one loaded model (Triton's dynamic batcher, MLServer's adaptive batching):
/// requests that arrive together are stacked along the first dimension and scored in one <see cref="ServableModel.Infer"/>.
/// A batch is dispatched as soon as it holds <c>maxBatchSize</c> rows or its first request has waited
/// <c>maxLatency</c>, whichever comes first; a request never joins a batch it would push past the size (it opens the
/// next one), and one with as many rows as the size or more is scored on its own. Batches are scored on up to one thread
/// per core at once; while every scorer is busy requests queue, so batches grow with load (that is the adaptive part).
/// If a batch fails (one request's row is
/// invalid for the model) each of its requests is scored alone, so only the bad one fails.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification =
    "The semaphore's wait handle is never created (only WaitAsync/Release), so there is nothing to release; the batcher lives as long as its model.")]
public sealed class MicroBatcher
{
    private readonly ServableModel _model;
    private readonly int _maxBatchSize;
    private readonly TimeSpan _maxLatency;
    private readonly SemaphoreSlim _scorers = new(Environment.ProcessorCount, Environment.ProcessorCount);
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private long _batches;
    private long _requests;
    private long _largest;
    private long _maxQueueTicks;

    public MicroBatcher(ServableModel model, int maxBatchSize, TimeSpan maxLatency)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 2);
        _model = model;
        _maxBatchSize = maxBatchSize;
        _maxLatency = maxLatency;
        _ = Task.Run(LoopAsync);
    }

    /// <summary>Batches dispatched so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Requests scored through batches so far.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>The most rows any dispatched batch held.</summary>
    public long LargestBatch => Interlocked.Read(ref _largest);

    /// <summary>The longest a request waited for its batch to be dispatched from the moment it had arrived and a scorer was
    /// free (the part of the wait the batcher controls, bounded by the latency setting; waiting for a busy scorer is
    /// capacity, not batching).</summary>
    public TimeSpan MaxQueueWait => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _maxQueueTicks));

    /// <summary>Scores bound inputs with the others that arrive with them; returns every output of the model.</summary>
    public Task<Tensor[]> InferAsync(Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var rows = ServableModel.RowsOf(inputs);
        if (rows >= _maxBatchSize)
        {
            return Task.FromResult(_model.Infer(inputs, []));
        }
        var pending = new Pending(inputs, rows, Stopwatch.GetTimestamp());
        return _queue.Writer.TryWrite(pending) ? pending.Done.Task : Task.FromResult(_model.Infer(inputs, []));
    }

    private async Task LoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(_maxBatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // A batch is formed once a scorer is free: while all are busy, requests queue up and the next batch is larger.
            await _scorers.WaitAsync().ConfigureAwait(false);
            var free = Stopwatch.GetTimestamp();
            if (!reader.TryRead(out var first))
            {
                _scorers.Release();
                continue;
            }
            batch.Clear();
            batch.Add(first);
            var rows = first.Rows;
            var deadline = first.Arrived + (long)(_maxLatency.TotalSeconds * Stopwatch.Frequency);
            while (rows < _maxBatchSize)
            {
                if (reader.TryPeek(out var next))
                {
                    if (rows + next.Rows > _maxBatchSize)
                    {
                        break;
                    }
                    reader.TryRead(out _);
                    batch.Add(next);
                    rows += next.Rows;
                    continue;
                }
                var remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0 || !await MoreWithinAsync(reader, remaining).ConfigureAwait(false))
                {
                    break;
                }
            }
            var dispatched = Stopwatch.GetTimestamp();
            foreach (var p in batch)
            {
                // The wait the batcher chose: from when the request was there and a scorer free, to the dispatch.
                InterlockedMax(ref _maxQueueTicks, dispatched - Math.Max(p.Arrived, free));
            }
            Pending[] taken = [.. batch];
            _ = Task.Run(() =>
            {
                try
                {
                    Score(taken, rows);
                }
                finally
                {
                    _scorers.Release();
                }
            });
        }
    }

    /// <summary>Waits up to <paramref name="ticks"/> for another request; false when none came in time.</summary>
    private static async ValueTask<bool> MoreWithinAsync(ChannelReader<Pending> reader, long ticks)
    {
        var wait = TimeSpan.FromSeconds((double)ticks / Stopwatch.Frequency);
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            return await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Score(Pending[] batch, long rows)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _requests, batch.Length);
        InterlockedMax(ref _largest, rows);
        if (batch.Length == 1)
        {
            Complete(batch[0]);
            return;
        }
        Tensor[] outputs;
        try
        {
            var inputs = new Tensor[batch[0].Inputs.Length];
            for (var i = 0; i < inputs.Length; i++)
            {
                inputs[i] = Tensor.Concat([.. batch.Select(p => p.Inputs[i])]);
            }
            outputs = _model.Infer(inputs, []);
            if (outputs.Any(o => o.Rows != rows))
            {
                throw new InvalidOperationException("an output's first dimension is not the batch");
            }
        }
        catch (Exception)
        {
            // Find the request that broke the batch: each is scored alone and fails (or not) on its own.
            foreach (var p in batch)
            {
                Complete(p);
            }
            return;
        }
        long offset = 0;
        foreach (var p in batch)
        {
            p.Done.TrySetResult([.. outputs.Select(o => o.SliceRows(offset, p.Rows))]);
            offset += p.Rows;
        }
    }

    private void Complete(Pending pending)
    {
        try
        {
            pending.Done.TrySetResult(_model.Infer(pending.Inputs, []));
        }
        catch (Exception e)
        {
            pending.Done.TrySetException(e);
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }

    private sealed record Pending(Tensor[] Inputs, long Rows, long Arrived)
    {
        public TaskCompletionSource<Tensor[]> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
