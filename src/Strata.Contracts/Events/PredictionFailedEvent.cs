namespace Strata.Contracts.Events;

/// <summary>Data of <c>prediction.failed</c>: a request a traffic policy routed to <see cref="ModelVersion"/> got no
/// prediction (<see cref="Status"/> is the HTTP status answered, <see cref="Reason"/> why). Rollout gates compare the
/// versions' error rates with it; requests without a policy are not reported here.</summary>
public sealed record PredictionFailedEvent(string Model, string ModelVersion, string? Arm, int? PolicyVersion, string RequestId, int Status, string Reason,
    double LatencyMs, DateTimeOffset Time);
