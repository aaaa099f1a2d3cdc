using System.Globalization;
using Strata.Contracts.Http;

namespace Strata.Contracts.Monitoring;

/// <summary><see cref="IMonitoringClient"/> over the Monitoring module's HTTP API.</summary>
public sealed class HttpMonitoringClient(HttpClient http) : IMonitoringClient
{
    public async Task<ModelPerformance> GetPerformanceAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null,
        CancellationToken cancellationToken = default)
    {
        var query = $"?from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture))}"
            + (version is null ? string.Empty : "&version=" + Uri.EscapeDataString(version));
        return (await ModuleHttp.SendAsync<ModelPerformance>(http, ModuleNames.Monitoring,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(MonitoringRoutes.Prefix, MonitoringRoutes.Performance, model) + query), cancellationToken))!;
    }
}
