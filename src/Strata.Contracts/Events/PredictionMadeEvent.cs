namespace Strata.Contracts.Events;

/// <summary>Data of <c>prediction.made</c>: what was asked, the features the model saw, what it answered, which version
/// answered, how long it took, the request's trace id (and, for a <c>prediction.requested</c> event, its request id), so any prediction can be traced back to its model's lineage.</summary>
public sealed record PredictionMadeEvent(
    string Model,
    string ModelVersion,
    IReadOnlyDictionary<string, double> Inputs,
    IReadOnlyDictionary<string, double> Features,
    double Prediction,
    double LatencyMs,
    string? TraceId,
    DateTimeOffset Time,
    string? RequestId = null);
