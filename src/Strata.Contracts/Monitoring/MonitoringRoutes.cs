namespace Strata.Contracts.Monitoring;

/// <summary>The Monitoring module's routes under <see cref="Prefix"/>.</summary>
public static class MonitoringRoutes
{
    public const string Prefix = "/api/monitoring";
    public const string Performance = "/models/{model}/performance";
    public const string Drift = "/models/{model}/drift";
    public const string Report = "/models/{model}";
}
