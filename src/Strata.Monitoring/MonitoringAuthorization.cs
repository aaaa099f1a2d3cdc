using Strata.ServiceDefaults.Security;

namespace Strata.Monitoring;

/// <summary>The monitoring module's rows of the authorization table.</summary>
public static class MonitoringAuthorization
{
    public static RouteAuthorization Table { get; } = new()
    {
        ["GET /api/monitoring/models/{model}/performance"] = Permissions.Read,
        ["GET /api/monitoring/models/{model}/drift"] = Permissions.Read,
        ["GET /api/monitoring/models/{model}"] = Permissions.Read,
    };
}
