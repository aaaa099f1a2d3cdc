using Strata.Contracts;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts.Errors;
using Strata.Contracts.Training;

namespace Strata.Training.Jobs;

/// <summary>The background queue of training jobs: <see cref="Submit"/> validates and stores a job as queued; up to
/// <see cref="TrainingOptions.MaxConcurrentJobs"/> workers run them in submission order, writing progress and a log
/// line per stage; <see cref="Cancel"/> cancels a queued job at once and interrupts a running one (its fit stops
/// within a tree or iteration, see FitCancellation; nothing is registered after a cancel). On start, jobs the previous process left running
/// are marked failed (interrupted) and queued ones are queued again, so no job shows as running when nothing runs it.</summary>
public sealed partial class TrainingJobs(TrainingJobStore store, TrainingService training, IOptions<TrainingOptions> options, TimeProvider time,
    ILogger<TrainingJobs> logger) : BackgroundService
{
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>();
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<TrainingJob>> _waiters = new(StringComparer.Ordinal);
    // The trace of whoever submitted (an HTTP request, a training.requested event), continued by the job's run so the
    // events it publishes (model.trained, model.registered) share it. Kept in memory: a job resumed after a restart
    // starts a trace of its own.
    private readonly ConcurrentDictionary<string, string> _traces = new(StringComparer.Ordinal);

    public TrainingJob Submit(TrainingRequest request)
    {
        // The job records the request as it will run: the deployment's defaults filled in.
        request = training.Complete(request);
        TrainingService.Validate(request);
        var now = time.GetUtcNow();
        var job = new TrainingJob($"job-{Guid.CreateVersion7():N}", TrainingJobStates.Queued, 0, "queued", request, now, null, null, null, null,
            [$"{TrainingJobStore.Stamp(now)} queued: {WireNames.Of(request.Trainer)} for model {request.Model}"]);
        store.Add(job);
        if (System.Diagnostics.Activity.Current?.Id is { } trace)
        {
            _traces[job.Id] = trace;
        }
        _queue.Writer.TryWrite(job.Id);
        return job;
    }

    public TrainingJob? Get(string id) => store.Get(id);

    public IReadOnlyList<TrainingJob> List(string? state, int limit) => store.List(state, limit);

    /// <summary>The job after the cancel: cancelled if it was queued; still running (until its fit or stage stops) if it ran.</summary>
    public TrainingJob Cancel(string id)
    {
        var job = store.Get(id) ?? throw new ResourceNotFoundException("training job", id);
        if (TrainingJobStates.IsFinished(job.State))
        {
            throw new ResourceConflictException($"training job {id} is already {job.State}");
        }
        if (job.State == TrainingJobStates.Queued)
        {
            var now = time.GetUtcNow();
            var cancelled = job with
            {
                State = TrainingJobStates.Cancelled, Stage = "cancelled", FinishedAt = now,
                Log = [.. job.Log, $"{TrainingJobStore.Stamp(now)} cancelled before it started"],
            };
            if (store.Update(cancelled, onlyIfState: TrainingJobStates.Queued))
            {
                _traces.TryRemove(id, out _);
                Finished(cancelled);
                return cancelled;
            }
            job = store.Get(id)!; // started meanwhile: cancel it running
        }
        if (_running.TryGetValue(id, out var running))
        {
            running.Cancel();
        }
        return store.Get(id)!;
    }

    /// <summary>Completes when the job has finished (any end state).</summary>
    public async Task<TrainingJob> WaitAsync(string id, CancellationToken cancellationToken)
    {
        var waiter = _waiters.GetOrAdd(id, _ => new TaskCompletionSource<TrainingJob>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (store.Get(id) is { } current && TrainingJobStates.IsFinished(current.State))
        {
            _waiters.TryRemove(id, out _);
            return current;
        }
        return await waiter.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Recover();
        var workers = Enumerable.Range(0, options.Value.MaxConcurrentJobs).Select(_ => Task.Run(() => WorkAsync(stoppingToken), CancellationToken.None)).ToArray();
        await Task.WhenAll(workers);
    }

    private void Recover()
    {
        var now = time.GetUtcNow();
        foreach (var job in store.List(TrainingJobStates.Running, int.MaxValue))
        {
            store.Update(job with
            {
                State = TrainingJobStates.Failed, Stage = "interrupted", FinishedAt = now, Error = "interrupted: the process running it stopped",
                Log = [.. job.Log, $"{TrainingJobStore.Stamp(now)} interrupted: the process running it stopped"],
            }, onlyIfState: TrainingJobStates.Running);
            LogInterrupted(logger, job.Id);
        }
        foreach (var job in store.Queued())
        {
            _queue.Writer.TryWrite(job.Id);
        }
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var id in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await RunAsync(id, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunAsync(string id, CancellationToken stoppingToken)
    {
        var job = store.Get(id);
        if (job is null || job.State != TrainingJobStates.Queued)
        {
            return; // cancelled while queued
        }
        var started = time.GetUtcNow();
        job = job with { State = TrainingJobStates.Running, Stage = "starting", StartedAt = started, Log = [.. job.Log, $"{TrainingJobStore.Stamp(started)} started"] };
        if (!store.Update(job, onlyIfState: TrainingJobStates.Queued))
        {
            return;
        }
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        _running[id] = cancel;
        using var activity = _traces.TryRemove(id, out var parent) ? new System.Diagnostics.Activity("strata.training.job").SetParentId(parent).Start() : null;
        var gate = new Lock();
        void Progress(double fraction, string stage)
        {
            lock (gate)
            {
                job = job with { Progress = fraction, Stage = stage, Log = [.. job.Log, $"{TrainingJobStore.Stamp(time.GetUtcNow())} {stage}"] };
                store.Update(job);
            }
        }
        try
        {
            var result = await training.TrainAsync(job.Request, Progress, cancel.Token);
            End(job with { State = TrainingJobStates.Succeeded, Progress = 1, Stage = "done", Result = result }, $"registered {result.Model} v{result.Version}");
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The process is stopping: the job stays running in the store and the next start marks it interrupted.
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            End(job with { State = TrainingJobStates.Cancelled, Stage = "cancelled" }, "cancelled");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            End(job with { State = TrainingJobStates.Failed, Stage = "failed", Error = e.Message }, $"failed: {e.Message}");
            LogFailed(logger, id, e.Message);
        }
        finally
        {
            _running.TryRemove(id, out _);
        }

        void End(TrainingJob ended, string line)
        {
            lock (gate)
            {
                var now = time.GetUtcNow();
                job = ended with { FinishedAt = now, Log = [.. ended.Log, $"{TrainingJobStore.Stamp(now)} {line}"] };
                store.Update(job);
            }
            Finished(job);
        }
    }

    private void Finished(TrainingJob job)
    {
        if (_waiters.TryRemove(job.Id, out var waiter))
        {
            waiter.TrySetResult(job);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Training job {Id} was running when the process stopped: marked failed")]
    private static partial void LogInterrupted(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Training job {Id} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string id, string reason);
}
