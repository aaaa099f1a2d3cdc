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
}
