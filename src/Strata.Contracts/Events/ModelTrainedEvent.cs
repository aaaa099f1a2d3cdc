namespace Strata.Contracts.Events;

/// <summary>Data of <c>model.trained</c>: a training finished and registered <see cref="Model"/> v<see cref="Version"/>
/// (and moved <see cref="Alias"/> to it, if any); <see cref="RequestId"/> echoes the <c>training.requested</c> event's.</summary>
public sealed record ModelTrainedEvent(string Model, int Version, string? Alias, string DatasetId, string View,
    IReadOnlyDictionary<string, double> Metrics, double Seconds, string? RequestId);
