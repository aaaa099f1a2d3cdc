using System.Globalization;
using Strata.Contracts.Http;

namespace Strata.Contracts.Monitoring;

/// <summary><see cref="IMonitoringClient"/> over the Monitoring module's HTTP API.</summary>
public sealed class HttpMonitoringClient(HttpClient http) : IMonitoringClient
{
    public Task<ModelPerformance> GetPerformanceAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null,
        CancellationToken cancellationToken = default) => GetAsync<ModelPerformance>(MonitoringRoutes.Performance, model, from, to, version, cancellationToken);

    public Task<ModelDrift> GetDriftAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null,
        CancellationToken cancellationToken = default) => GetAsync<ModelDrift>(MonitoringRoutes.Drift, model, from, to, version, cancellationToken);

    public Task<ModelReport> GetReportAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null,
        CancellationToken cancellationToken = default) => GetAsync<ModelReport>(MonitoringRoutes.Report, model, from, to, version, cancellationToken);

    private async Task<T> GetAsync<T>(string route, string model, DateTimeOffset from, DateTimeOffset to, string? version, CancellationToken cancellationToken)
    {
        var query = $"?from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture))}"
            + (version is null ? string.Empty : "&version=" + Uri.EscapeDataString(version));
        return (await ModuleHttp.SendAsync<T>(http, ModuleNames.Monitoring,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(MonitoringRoutes.Prefix, route, model) + query), cancellationToken))!;
    }
}
