namespace Strata.Contracts.Tracking;

// MLflow's tracking entities in its REST shape (snake_case on the wire through Strata's JSON options; empty lists and
// absent values omitted, as MLflow's protobuf JSON does). Times are milliseconds since the Unix epoch.

public sealed record KeyValue(string Key, string Value);

public sealed record Metric(string Key, double Value, long Timestamp, long Step);

public sealed record Experiment(string ExperimentId, string Name, string ArtifactLocation, string LifecycleStage, long CreationTime, long LastUpdateTime,
    IReadOnlyList<KeyValue>? Tags);

public sealed record RunInfo(string RunId, string RunUuid, string RunName, string ExperimentId, string UserId, string Status, long StartTime, long? EndTime,
    string ArtifactUri, string LifecycleStage);

public sealed record RunData(IReadOnlyList<Metric>? Metrics, IReadOnlyList<KeyValue>? Params, IReadOnlyList<KeyValue>? Tags);

public sealed record Run(RunInfo Info, RunData Data, RunInputs? Inputs);

public sealed record RunInputs;

public static class RunStatus
{
    public static readonly string[] All = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];
}
