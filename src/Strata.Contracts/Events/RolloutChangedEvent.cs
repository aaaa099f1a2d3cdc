namespace Strata.Contracts.Events;

/// <summary>Data of <c>model.rollout</c>: rollout <see cref="Id"/> of <see cref="Model"/> took a step
/// (<see cref="Kind"/>: started, advanced, waiting, paused, resumed, promoted, rolled_back, aborted), now at
/// <see cref="Weight"/>% to <see cref="Candidate"/>, with the reason or the figures.</summary>
public sealed record RolloutChangedEvent(string Id, string Model, int Candidate, int Baseline, string Kind, string Status, int Step, int Weight, string Detail);
