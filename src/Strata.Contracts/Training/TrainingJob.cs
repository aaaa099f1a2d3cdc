namespace Strata.Contracts.Training;

/// <summary>A training job as the jobs API shows it: its state (<see cref="TrainingJobStates"/>), progress (0 to 1)
/// and current stage, the request, timestamps, the log (one line per stage), and the result or the error.</summary>
public sealed record TrainingJob(
    string Id,
    string State,
    double Progress,
    string? Stage,
    TrainingRequest Request,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    TrainingResult? Result,
    string? Error,
    IReadOnlyList<string> Log);

/// <summary>A job is queued, then running, then ends succeeded, failed or cancelled; a job that was running when its
/// process stopped ends failed (it is never shown as running by a process that is not running it).</summary>
public static class TrainingJobStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static IReadOnlyList<string> All { get; } = [Queued, Running, Succeeded, Failed, Cancelled];

    public static bool IsFinished(string state) => state is Succeeded or Failed or Cancelled;
}
