using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Tracking;

namespace Strata.Training.Jobs;

/// <summary>The tracking runs a training of this process has open, one empty file each under
/// <c>training/open-runs</c>: written when the run is created, removed once its end (FINISHED, FAILED, KILLED) is
/// recorded. A process killed mid-training leaves its files behind; the next start closes those runs as FAILED, with a
/// <c>strata.failure</c> tag saying why, so no run shows RUNNING when nothing runs it (issue 24). Runs that clients
/// of the MLflow API create are theirs to end: only Strata's own trainings are journaled.</summary>
public sealed partial class OpenRuns(string directory, ITrackingClient tracking, TimeProvider time, ILogger<OpenRuns> logger) : BackgroundService
{
    public const string FailureTag = "strata.failure";

    public void Opened(string runId)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(PathOf(runId), []);
    }

    public void Closed(string runId)
    {
        try
        {
            File.Delete(PathOf(runId));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind: the next start finds the run ended and only removes the file (see CloseLeftAsync).
        }
    }

    /// <summary>Closes the runs a previous process left open, retrying while the registry is not reachable yet (the
    /// microservices topology starts its processes together).</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }
        var left = Directory.GetFiles(directory).Select(Path.GetFileName).Where(IsRunId).ToList();
        var delay = TimeSpan.FromSeconds(1);
        while (left.Count > 0 && !stoppingToken.IsCancellationRequested)
        {
            foreach (var runId in left.ToList())
            {
                try
                {
                    await CloseLeftAsync(runId!, stoppingToken);
                    left.Remove(runId);
                }
                catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
                {
                    LogNotClosedYet(logger, runId!, e.Message);
                }
            }
            if (left.Count > 0)
            {
                await Task.Delay(delay, time, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
            }
        }
    }

    private async Task CloseLeftAsync(string runId, CancellationToken cancellationToken)
    {
        Run run;
        try
        {
            run = await tracking.GetRunAsync(runId, cancellationToken);
        }
        catch (Contracts.Errors.ResourceNotFoundException)
        {
            Closed(runId); // deleted meanwhile: nothing to close
            return;
        }
        // The process may have recorded the end and died before removing the file: a run that ended stays as it ended.
        if (run.Info.Status == RunStatus.Running)
        {
            await tracking.LogBatchAsync(runId, [], [], [new KeyValue(FailureTag, "the process training it stopped before the run ended (closed at the next start)")],
                cancellationToken);
            await tracking.UpdateRunAsync(runId, RunStatus.Failed, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
            LogClosed(logger, runId);
        }
        Closed(runId);
    }

    private string PathOf(string runId) => IsRunId(runId)
        ? Path.Combine(directory, runId)
        : throw new ArgumentException($"'{runId}' is not a run id", nameof(runId));

    private static bool IsRunId(string? name) => name is { Length: > 0 and <= 64 } && name.All(char.IsAsciiLetterOrDigit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} was left running by a process that stopped: marked FAILED")]
    private static partial void LogClosed(ILogger logger, string runId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} left running by a stopped process is not closed yet: {Reason}; retrying")]
    private static partial void LogNotClosedYet(ILogger logger, string runId, string reason);
}
