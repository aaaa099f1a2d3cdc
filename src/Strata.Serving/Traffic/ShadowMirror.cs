using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Strata.Serving.Traffic;

/// <summary>Runs mirrored requests against shadow versions off the request path: the request thread queues a job
/// without waiting (a full queue drops it and counts the drop), one worker scores it and compares the answers. A
/// shadow that throws or is slow costs the primary nothing: its failures are counted, never returned.</summary>
public sealed partial class ShadowMirror(ILogger<ShadowMirror> logger) : BackgroundService
{
    /// <summary>Mirrored requests waiting for the shadow; beyond this they are dropped.</summary>
    public const int Capacity = 1024;

    private readonly Channel<Job> _queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly SemaphoreSlim _running = new(1, 1);

    /// <summary>A mirrored request: scores the shadow version, returning one number per row (as the primary's).</summary>
    public delegate ValueTask<double[]> ShadowScorer(CancellationToken cancellationToken);

    private sealed record Job(ShadowStats Stats, double[] Primary, double PrimaryMs, ShadowScorer Score);

    /// <summary>Queues a mirrored request; never blocks.</summary>
    public void Mirror(ShadowStats stats, double[] primary, double primaryMs, ShadowScorer score)
    {
        ArgumentNullException.ThrowIfNull(stats);
        if (_queue.Writer.TryWrite(new Job(stats, primary, primaryMs, score)))
        {
            stats.Queued();
        }
        else
        {
            stats.Drop();
        }
    }

    /// <summary>Holds the worker (a shadow that stops answering) until the returned handle is disposed: tests show the
    /// primary path does not wait for it.</summary>
    internal async Task<IDisposable> StallAsync()
    {
        await _running.WaitAsync();
        return new Release(_running);
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var job in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await _running.WaitAsync(stoppingToken);
                try
                {
                    var started = Stopwatch.GetTimestamp();
                    var shadow = await job.Score(stoppingToken);
                    job.Stats.Compare(job.Primary, shadow, job.PrimaryMs, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    job.Stats.Fail();
                    LogShadowFailed(logger, job.Stats.Version, e.Message);
                }
                finally
                {
                    _running.Release();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _running.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Shadow v{Version} failed a mirrored request: {Reason}")]
    private static partial void LogShadowFailed(ILogger logger, string version, string reason);
}
