namespace Strata.Contracts.Events;

/// <summary>Data of <c>prediction.made</c>: what was asked, the features the model saw, what it answered, which version
/// answered, how long it took, the request's trace id and request id (with <see cref="Row"/>, the row of a batch: the key
/// feedback joins on), so any prediction can be traced back to its model's lineage. Under a traffic policy (schema v2)
/// every prediction is logged, with the <see cref="Arm"/> that chose its version and the <see cref="PolicyVersion"/>.</summary>
public sealed record PredictionMadeEvent(
    string Model,
    string ModelVersion,
    IReadOnlyDictionary<string, double> Inputs,
    IReadOnlyDictionary<string, double> Features,
    double Prediction,
    double LatencyMs,
    string? TraceId,
    DateTimeOffset Time,
    string? RequestId = null,
    int? Row = null,
    string? Arm = null,
    int? PolicyVersion = null);
