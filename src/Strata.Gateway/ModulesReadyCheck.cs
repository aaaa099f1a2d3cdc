using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Strata.Gateway;

/// <summary>The gateway is ready when every module behind it has a replica that answers <c>/health/ready</c> with 200
/// (one replica of several down does not take the front door out of rotation: the others serve).</summary>
public sealed class ModulesReadyCheck(IHttpClientFactory clients, ModuleDirectory modules) : IHealthCheck
{
    public const string ClientName = "gateway-readiness";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var http = clients.CreateClient(ClientName);
        var checks = modules.Urls.Select(async pair =>
        {
            var replicas = await Task.WhenAll(pair.Value.Select(async url =>
            {
                try
                {
                    using var response = await http.GetAsync(new Uri(url, "/health/ready"), cancellationToken);
                    return response.IsSuccessStatusCode;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            }));
            return (pair.Key, Ready: replicas.Any(r => r));
        });
        var results = await Task.WhenAll(checks);
        var notReady = results.Where(r => !r.Ready).Select(r => r.Key).ToList();
        return notReady.Count == 0
            ? HealthCheckResult.Healthy("all modules ready")
            : HealthCheckResult.Unhealthy($"not ready: {string.Join(", ", notReady)}");
    }
}
