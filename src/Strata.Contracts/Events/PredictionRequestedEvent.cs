namespace Strata.Contracts.Events;

/// <summary>Data of <c>prediction.requested</c>: score <see cref="Inputs"/> (the model's view inputs by name) with the
/// served model, routed by its traffic policy as an HTTP request is (<see cref="Headers"/> for header rules and a sticky
/// header, the inputs for a sticky key; schema v2); the answer is a <c>prediction.made</c> event carrying the same
/// <see cref="RequestId"/>, the version and the arm that answered.</summary>
public sealed record PredictionRequestedEvent(string RequestId, IReadOnlyDictionary<string, double> Inputs,
    IReadOnlyDictionary<string, string>? Headers = null);
