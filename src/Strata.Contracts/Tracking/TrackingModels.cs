using System.Text.Json.Serialization;

namespace Strata.Contracts.Tracking;

// MLflow's tracking entities in its REST shape (snake_case on the wire through Strata's JSON options; empty lists and
// absent values omitted, as MLflow's protobuf JSON does). Times are milliseconds since the Unix epoch.

public sealed record KeyValue(string Key, string Value);

public sealed record Metric(string Key, double Value, long Timestamp, long Step);

public sealed record Experiment(string ExperimentId, string Name, string ArtifactLocation, string LifecycleStage, long CreationTime, long LastUpdateTime,
    IReadOnlyList<KeyValue>? Tags);

public sealed record RunInfo(string RunId, string RunUuid, string RunName, string ExperimentId, string UserId, RunStatus Status, long StartTime, long? EndTime,
    string ArtifactUri, string LifecycleStage);

public sealed record RunData(IReadOnlyList<Metric>? Metrics, IReadOnlyList<KeyValue>? Params, IReadOnlyList<KeyValue>? Tags);

public sealed record Run(RunInfo Info, RunData Data, RunInputs? Inputs);

/// <summary>What a run read (MLflow's <c>runs/log-inputs</c>): datasets, each with its tags (e.g. <c>mlflow.data.context</c>).</summary>
public sealed record RunInputs(IReadOnlyList<DatasetInput>? DatasetInputs = null);

public sealed record DatasetInput(IReadOnlyList<KeyValue>? Tags, Dataset Dataset);

/// <summary>A dataset as MLflow logs it: name, digest, where it came from, and optionally its schema and profile (JSON text).</summary>
public sealed record Dataset(string Name, string Digest, string SourceType, string Source, string? Schema = null, string? Profile = null);

/// <summary>A run's status, upper case on the wire as MLflow's protos name it.</summary>
public enum RunStatus
{
    [JsonStringEnumMemberName("RUNNING")] Running,
    [JsonStringEnumMemberName("SCHEDULED")] Scheduled,
    [JsonStringEnumMemberName("FINISHED")] Finished,
    [JsonStringEnumMemberName("FAILED")] Failed,
    [JsonStringEnumMemberName("KILLED")] Killed,
}

public static class RunStatuses
{
    /// <summary>The wire (and stored) name of a status.</summary>
    public static string Name(this RunStatus status) => status switch
    {
        RunStatus.Running => "RUNNING",
        RunStatus.Scheduled => "SCHEDULED",
        RunStatus.Finished => "FINISHED",
        RunStatus.Failed => "FAILED",
        RunStatus.Killed => "KILLED",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>The status a stored name stands for.</summary>
    public static RunStatus Parse(string name) => name switch
    {
        "RUNNING" => RunStatus.Running,
        "SCHEDULED" => RunStatus.Scheduled,
        "FINISHED" => RunStatus.Finished,
        "FAILED" => RunStatus.Failed,
        "KILLED" => RunStatus.Killed,
        _ => throw new FormatException($"'{name}' is not a run status"),
    };
}
