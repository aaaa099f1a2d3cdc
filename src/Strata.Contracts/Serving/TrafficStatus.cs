using Strata.Contracts.Registry;

namespace Strata.Contracts.Serving;

/// <summary>A model's traffic as one serving process sees it (<c>GET /api/serving/traffic/{model}</c>): the policy in
/// force here (null: none, the default alias answers), requests per arm since it came into force, and how the shadow's
/// answers compare with the primary's. Counts are this process's (each replica counts its own).</summary>
public sealed record TrafficStatus(string Model, int? PolicyVersion, TrafficPolicy? Policy, IReadOnlyList<ArmStatus> Arms, ShadowStatus? Shadow);

/// <summary>One arm (a header rule, a split arm, or <c>default</c>): the version it answers with and how many requests it took.</summary>
public sealed record ArmStatus(string Arm, string Version, long Requests);

/// <summary>Shadow comparison: requests mirrored, rows compared, the share of rows on which the two agree (the same side
/// of 0.5 for probabilities, within 1% otherwise), mirrored requests the shadow failed or that were dropped because it
/// fell behind, the mean of shadow − primary, and quantiles of |shadow − primary| and of each side's latency.</summary>
public sealed record ShadowStatus(string Version, long Mirrored, long Rows, double? Agreement, long Failed, long Dropped, long Incomparable,
    double? MeanDelta, Quantiles AbsoluteDelta, Quantiles PrimaryLatencyMs, Quantiles ShadowLatencyMs);

public sealed record Quantiles(double? P50, double? P90, double? P99);
