using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Strata.Serving.Models;

/// <summary>Serving is ready only once a model version is loaded and warm.</summary>
public sealed class ModelLoadedCheck(ModelHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(host.Current is { } model
            ? HealthCheckResult.Healthy($"{model.Version.Model} v{model.Version.Version}")
            : HealthCheckResult.Unhealthy($"no version of {host.Options.Model}@{host.Options.Alias} loaded yet"));
}
