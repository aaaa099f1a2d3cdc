using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Strata.Gateway;

/// <summary>The gateway is ready when every module behind it answers <c>/health/ready</c> with 200.</summary>
public sealed class ModulesReadyCheck(IHttpClientFactory clients, ModuleDirectory modules) : IHealthCheck
{
    public const string ClientName = "gateway-readiness";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var http = clients.CreateClient(ClientName);
        var checks = modules.Urls.Select(async pair =>
        {
            try
            {
                using var response = await http.GetAsync(new Uri(pair.Value, "/health/ready"), cancellationToken);
                return (pair.Key, Ready: response.IsSuccessStatusCode);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return (pair.Key, Ready: false);
            }
        });
        var results = await Task.WhenAll(checks);
        var notReady = results.Where(r => !r.Ready).Select(r => r.Key).ToList();
        return notReady.Count == 0
            ? HealthCheckResult.Healthy("all modules ready")
            : HealthCheckResult.Unhealthy($"not ready: {string.Join(", ", notReady)}");
    }
}
