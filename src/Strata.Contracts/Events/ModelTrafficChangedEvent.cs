using Strata.Contracts.Registry;

namespace Strata.Contracts.Events;

/// <summary>Data of <c>model.traffic_changed</c>: version <see cref="Version"/> of the model's traffic policy is in force
/// (a null <see cref="Policy"/>: cleared, the default alias takes every request).</summary>
public sealed record ModelTrafficChangedEvent(string Model, int Version, TrafficPolicy? Policy);
