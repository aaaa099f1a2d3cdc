namespace Strata.Contracts.Monitoring;

/// <summary>The Monitoring module as other modules see it: model performance from the prediction log and outcomes.</summary>
public interface IMonitoringClient
{
    /// <summary>Each version's figures over [<paramref name="from"/>, <paramref name="to"/>) (prediction times), or
    /// only <paramref name="version"/>'s.</summary>
    Task<ModelPerformance> GetPerformanceAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null,
        CancellationToken cancellationToken = default);

    /// <summary>Each version's drift and data quality over [<paramref name="from"/>, <paramref name="to"/>) against its
    /// training baseline, or only <paramref name="version"/>'s.</summary>
    Task<ModelDrift> GetDriftAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null, CancellationToken cancellationToken = default);

    /// <summary>Drift and performance together.</summary>
    Task<ModelReport> GetReportAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null, CancellationToken cancellationToken = default);
}
