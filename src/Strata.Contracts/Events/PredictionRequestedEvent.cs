namespace Strata.Contracts.Events;

/// <summary>Data of <c>prediction.requested</c>: score <see cref="Inputs"/> (the model's view inputs by name) with the
/// served model; the answer is a <c>prediction.made</c> event carrying the same <see cref="RequestId"/>.</summary>
public sealed record PredictionRequestedEvent(string RequestId, IReadOnlyDictionary<string, double> Inputs);
