namespace Strata.Contracts.Monitoring;

/// <summary>The Monitoring module as other modules see it: model performance from the prediction log and outcomes.</summary>
public interface IMonitoringClient
{
    /// <summary>Each version's figures over [<paramref name="from"/>, <paramref name="to"/>) (prediction times), or
    /// only <paramref name="version"/>'s.</summary>
    Task<ModelPerformance> GetPerformanceAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null,
        CancellationToken cancellationToken = default);
}
