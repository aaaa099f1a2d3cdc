using System.ComponentModel.DataAnnotations;

namespace Strata.Monitoring;

/// <summary>Settings of the monitoring store (<c>Strata:Monitoring</c>).</summary>
public sealed class MonitoringOptions
{
    public const string Section = "Strata:Monitoring";

    /// <summary><c>sqlite</c> (default: <c>monitoring.db</c> in the module's data directory) or <c>postgres</c>.</summary>
    [Required, RegularExpression("^(sqlite|postgres)$", ErrorMessage = "Strata:Monitoring:Store must be sqlite or postgres")]
    public string Store { get; set; } = "sqlite";

    /// <summary>Npgsql connection string when the store is postgres.</summary>
    public string? Postgres { get; set; }

    /// <summary>How long predictions, failures and outcomes are kept (90 days by default: labels may come weeks later).</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How long sampled predictions without a request id are kept (no outcome can join them; drift reads recent
    /// windows only).</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan DriftRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Labels 0/1: the score at or above which a prediction counts as positive for accuracy, precision and recall
    /// (0.5 unless set); <see cref="DecisionThresholds"/> sets it per model (a fraud model declining at 0.8, say).</summary>
    [Range(0.0, 1.0)]
    public double DecisionThreshold { get; set; } = 0.5;

    /// <summary>Per model: <c>Strata:Monitoring:DecisionThresholds:{model}</c>.</summary>
    public IDictionary<string, double> DecisionThresholds { get; } = new Dictionary<string, double>(StringComparer.Ordinal);

    public double ThresholdOf(string model) => DecisionThresholds.TryGetValue(model, out var threshold) ? threshold : DecisionThreshold;

    /// <summary>Drift: the significance level of a version's check, Bonferroni-corrected over its features.</summary>
    [Range(1e-9, 0.5)]
    public double DriftAlpha { get; set; } = 0.01;

    /// <summary>Drift: the population stability index a feature must reach to count as drifted (0.1: a moderate shift;
    /// 0.25: a major one).</summary>
    [Range(0.0, 10.0)]
    public double DriftPsi { get; set; } = 0.1;

    /// <summary>Drift: windows with fewer logged predictions are reported, never flagged.</summary>
    [Range(10, 10_000_000)]
    public int DriftMinPredictions { get; set; } = 100;

    /// <summary>Drift: at most this many of a window's most recent predictions are compared.</summary>
    [Range(100, 10_000_000)]
    public int DriftMaxRows { get; set; } = 100_000;

    /// <summary>Alerts: the window each check covers (the last hour by default).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan CheckWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Alerts: how often every version with predictions in the window is checked; zero turns alerts off.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Alerts: AUC this much below the holdout's, or RMSE this fraction above it, is degraded.</summary>
    [Range(0.0, 1.0)]
    public double PerformanceTolerance { get; set; } = 0.05;

    /// <summary>Alerts: outcomes a window needs before its performance is judged.</summary>
    [Range(1, 10_000_000)]
    public int PerformanceMinOutcomes { get; set; } = 200;

    /// <summary>Policy: a drift or degradation alert also publishes <c>training.requested</c> for the model, on the newest
    /// version of the data it was trained on, without moving any alias (a rollout decides). Off by default.</summary>
    public bool RetrainOnAlert { get; set; }

    internal Drift.DriftThresholds Thresholds => new(DriftAlpha, DriftPsi, DriftMinPredictions);
}
