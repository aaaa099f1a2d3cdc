using System.Text.Json.Serialization;
using Strata.Contracts.Tracking;

namespace Strata.Registry.Tracking;

// The MLflow REST API's request and response bodies (snake_case on the wire through Strata's JSON options; null
// fields omitted). Requests are lenient where protobuf JSON is (ids as numbers, int64 as strings); what every call
// requires is checked by its handler, so a missing field is answered as MLflow does (INVALID_PARAMETER_VALUE).

/// <summary>A key and value as requests carry them (tags, params); both checked by the handler.</summary>
public sealed record KeyValueInput(string? Key, string? Value);

/// <summary>A metric as requests carry it.</summary>
public sealed record MetricInput(
    string? Key,
    [property: JsonConverter(typeof(MlflowDoubleConverter))] double? Value,
    [property: JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] long? Timestamp,
    [property: JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] long? Step);

public sealed record CreateExperimentRequest(string? Name, string? ArtifactLocation, IReadOnlyList<KeyValueInput>? Tags);

public sealed record ExperimentIdRequest([property: JsonConverter(typeof(MlflowIdConverter))] string? ExperimentId);

public sealed record UpdateExperimentRequest([property: JsonConverter(typeof(MlflowIdConverter))] string? ExperimentId, string? NewName);

public sealed record DeleteExperimentTagRequest([property: JsonConverter(typeof(MlflowIdConverter))] string? ExperimentId, string? Key);

public sealed record SetExperimentTagRequest([property: JsonConverter(typeof(MlflowIdConverter))] string? ExperimentId, string? Key, string? Value);

public sealed record SearchExperimentsRequest(
    [property: JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] long? MaxResults,
    string? PageToken,
    string? Filter,
    [property: JsonConverter(typeof(MlflowStringsConverter))] IReadOnlyList<string>? OrderBy,
    string? ViewType);

/// <summary>A body naming a run: <c>run_id</c>, or the older <c>run_uuid</c>.</summary>
public abstract record RunRequest
{
    [JsonConverter(typeof(MlflowIdConverter))]
    public string? RunId { get; init; }

    [JsonConverter(typeof(MlflowIdConverter))]
    public string? RunUuid { get; init; }
}

public sealed record RunIdRequest : RunRequest;

public sealed record DatasetFields(string? Name, string? Digest, string? SourceType, string? Source, string? Schema, string? Profile);

public sealed record DatasetInputFields(IReadOnlyList<KeyValueInput>? Tags, DatasetFields? Dataset);

/// <summary><c>runs/log-inputs</c>: datasets the run read.</summary>
public sealed record LogInputsRequest : RunRequest
{
    public IReadOnlyList<DatasetInputFields>? Datasets { get; init; }
}

/// <summary><c>runs/log-model</c>: the logged model's <c>MLmodel</c> as JSON text (what <c>log_model</c> sends after
/// uploading the model's files).</summary>
public sealed record LogModelRequest : RunRequest
{
    public string? ModelJson { get; init; }
}

public sealed record CreateRunRequest(
    [property: JsonConverter(typeof(MlflowIdConverter))] string? ExperimentId,
    string? UserId,
    string? RunName,
    [property: JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] long? StartTime,
    IReadOnlyList<KeyValueInput>? Tags);

public sealed record UpdateRunRequest : RunRequest
{
    public RunStatus? Status { get; init; }

    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)]
    public long? EndTime { get; init; }

    public string? RunName { get; init; }
}

public sealed record LogMetricRequest : RunRequest
{
    public string? Key { get; init; }

    [JsonConverter(typeof(MlflowDoubleConverter))]
    public double? Value { get; init; }

    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)]
    public long? Timestamp { get; init; }

    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)]
    public long? Step { get; init; }
}

/// <summary><c>log-parameter</c> and <c>set-tag</c>: a run, a key and a value.</summary>
public sealed record KeyValueRunRequest : RunRequest
{
    public string? Key { get; init; }

    public string? Value { get; init; }
}

public sealed record DeleteTagRequest([property: JsonConverter(typeof(MlflowIdConverter))] string? RunId, string? Key);

public sealed record LogBatchRequest([property: JsonConverter(typeof(MlflowIdConverter))] string? RunId, IReadOnlyList<MetricInput>? Metrics, IReadOnlyList<KeyValueInput>? Params, IReadOnlyList<KeyValueInput>? Tags);

public sealed record SearchRunsRequest(
    [property: JsonConverter(typeof(MlflowStringsConverter))] IReadOnlyList<string>? ExperimentIds,
    string? Filter,
    [property: JsonConverter(typeof(MlflowStringsConverter))] IReadOnlyList<string>? OrderBy,
    string? RunViewType,
    [property: JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] long? MaxResults,
    string? PageToken);

public sealed record CreateRegisteredModelRequest(string? Name, IReadOnlyList<KeyValueInput>? Tags, string? Description);

public sealed record SetAliasRequest(string? Name, string? Alias, [property: JsonConverter(typeof(MlflowIdConverter))] string? Version);

/// <summary>A delete call's target as a JSON body (MLflow's clients send DELETE parameters so); the query string is
/// taken when there is no body.</summary>
public sealed record DeleteTargetRequest(string? Name, string? Alias, [property: JsonConverter(typeof(MlflowIdConverter))] string? Version, string? Key);

public sealed record SetRegistryTagRequest(string? Name, [property: JsonConverter(typeof(MlflowIdConverter))] string? Version, string? Key, string? Value);

public sealed record TransitionStageRequest(string? Name, [property: JsonConverter(typeof(MlflowIdConverter))] string? Version, string? Stage,
    [property: JsonConverter(typeof(MlflowBoolConverter))] bool? ArchiveExistingVersions);

public sealed record UpdateRegisteredModelRequest(string? Name, string? Description);

public sealed record RenameRegisteredModelRequest(string? Name, string? NewName);

public sealed record UpdateModelVersionRequest(string? Name, [property: JsonConverter(typeof(MlflowIdConverter))] string? Version, string? Description);

public sealed record GetLatestVersionsRequest(string? Name, [property: JsonConverter(typeof(MlflowStringsConverter))] IReadOnlyList<string>? Stages);

public sealed record CreateModelVersionRequest(string? Name, string? Source, [property: JsonConverter(typeof(MlflowIdConverter))] string? RunId, IReadOnlyList<KeyValueInput>? Tags, string? Description);

// Responses.

/// <summary>The empty object MLflow answers for calls that return nothing.</summary>
public sealed record EmptyResponse;

public sealed record ExperimentIdResponse(string ExperimentId);

public sealed record ExperimentResponse(Experiment Experiment);

public sealed record ExperimentsPage(IReadOnlyList<Experiment> Experiments, string? NextPageToken);

public sealed record RunResponse(Run Run);

public sealed record RunInfoResponse(RunInfo RunInfo);

public sealed record RunsPage(IReadOnlyList<Run> Runs, string? NextPageToken);

public sealed record MetricsPage(IReadOnlyList<Metric> Metrics, string? NextPageToken);

public sealed record MlflowAlias(string Alias, string Version);

/// <summary>A model version in MLflow's shape (the version number as a string, stage None, status READY).</summary>
public sealed record MlflowModelVersion(
    string Name,
    string Version,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    string CurrentStage,
    string? Description,
    string Source,
    string? RunId,
    string Status,
    IReadOnlyList<string> Aliases,
    IReadOnlyList<KeyValue>? Tags);

public sealed record MlflowRegisteredModel(
    string Name,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    IReadOnlyList<MlflowModelVersion>? LatestVersions,
    IReadOnlyList<MlflowAlias> Aliases,
    IReadOnlyList<KeyValue>? Tags,
    string? Description = null);

public sealed record RegisteredModelResponse(MlflowRegisteredModel RegisteredModel);

public sealed record ModelVersionsList(IReadOnlyList<MlflowModelVersion> ModelVersions);

public sealed record DownloadUriResponse(string ArtifactUri);

public sealed record RegisteredModelsPage(IReadOnlyList<MlflowRegisteredModel> RegisteredModels, string? NextPageToken);

public sealed record ModelVersionResponse(MlflowModelVersion ModelVersion);

public sealed record ModelVersionsPage(IReadOnlyList<MlflowModelVersion> ModelVersions, string? NextPageToken);

/// <summary>MLflow's error body.</summary>
public sealed record MlflowError(string ErrorCode, string Message);
