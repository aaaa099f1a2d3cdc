using System.Collections.Concurrent;
using System.Diagnostics;

namespace Strata.Serving.Models;

/// <summary>Adaptive micro-batching for one loaded model (Triton's dynamic batcher, MLServer's adaptive batching):
/// requests that arrive together are stacked along the first dimension and scored in one <see cref="ServableModel.Infer"/>.
/// A batch is dispatched as soon as it holds <c>maxBatchSize</c> rows or its first request has waited <c>maxLatency</c>,
/// whichever comes first; a request never joins a batch it would push past the size (it opens the next one), and one
/// with as many rows as the size or more is scored on its own. If a batch fails (one request's row is invalid for the
/// model) each of its requests is scored alone, so only the bad one fails.
/// <para>Batches are formed and scored by up to one dedicated thread per core (not the thread pool: a batcher waiting
/// for a timer behind a busy pool misses its latency bound), each taking the next batch when it is free, so batches grow
/// while every scorer is busy: that is the adaptive part. A scorer idle for a few seconds ends; the next request starts
/// one again, so a model swapped out leaves no thread behind.</para></summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification =
    "The semaphore's wait handle is never created (only Wait/Release with timeouts), so there is nothing to dispose; scorer threads end when idle.")]
public sealed class MicroBatcher
{
    private static readonly TimeSpan IdleExit = TimeSpan.FromSeconds(5);
    private readonly ServableModel _model;
    private readonly int _maxBatchSize;
    private readonly long _maxLatencyTicks;
    private readonly int _maxScorers = Environment.ProcessorCount;
    private readonly ConcurrentQueue<Pending> _queue = new();
    private readonly SemaphoreSlim _queued = new(0);
    private int _scorers;
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
        _maxLatencyTicks = (long)(maxLatency.TotalSeconds * Stopwatch.Frequency);
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
        _queue.Enqueue(pending);
        _queued.Release();
        EnsureScorer();
        return pending.Done.Task;
    }

    /// <summary>Starts a scorer when fewer than one per core run and requests wait.</summary>
    private void EnsureScorer()
    {
        while (true)
        {
            var running = Volatile.Read(ref _scorers);
            if (running >= _maxScorers || (running > 0 && _queued.CurrentCount <= running))
            {
                return;
            }
            if (Interlocked.CompareExchange(ref _scorers, running + 1, running) == running)
            {
                new Thread(Score) { IsBackground = true, Name = $"batcher {_model.Name} v{_model.VersionText}" }.Start();
                return;
            }
        }
    }

    private void Score()
    {
        var batch = new List<Pending>(_maxBatchSize);
        Pending? carried = null;
        while (true)
        {
            var free = Stopwatch.GetTimestamp();
            Pending first;
            if (carried is not null)
            {
                first = carried;
                carried = null;
            }
            else if (!_queued.Wait(IdleExit))
            {
                // Idle: end, unless a request slipped in between the timeout and the count going down.
                Interlocked.Decrement(ref _scorers);
                if (_queued.CurrentCount == 0)
                {
                    return;
                }
                Interlocked.Increment(ref _scorers);
                continue;
            }
            else if (!_queue.TryDequeue(out first!))
            {
                continue;
            }
            batch.Clear();
            batch.Add(first);
            var rows = first.Rows;
            var deadline = first.Arrived + _maxLatencyTicks;
            while (rows < _maxBatchSize)
            {
                var remaining = deadline - Stopwatch.GetTimestamp();
                if (!_queued.Wait(remaining <= 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, remaining)))
                {
                    break;
                }
                if (!_queue.TryDequeue(out var next))
                {
                    continue;
                }
                if (rows + next.Rows > _maxBatchSize)
                {
                    carried = next;
                    break;
                }
                batch.Add(next);
                rows += next.Rows;
            }
            var dispatched = Stopwatch.GetTimestamp();
            foreach (var p in batch)
            {
                InterlockedMax(ref _maxQueueTicks, dispatched - Math.Max(p.Arrived, free));
            }
            Dispatch(batch, rows);
        }
    }

    private void Dispatch(List<Pending> batch, long rows)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _requests, batch.Count);
        InterlockedMax(ref _largest, rows);
        if (batch.Count == 1)
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
