using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Strata.Serving.Models;

namespace Strata.Serving.Traffic;

/// <summary>The weights of the traffic policy each served model is under, per arm (<c>champion</c>, <c>v4</c>), as
/// serving applies them: a rollout's steps show as its candidate's weight rising. Exported at <c>/metrics</c> as
/// <c>strata_serving_traffic_weight</c>.</summary>
public sealed class TrafficGauges(ModelHost host, IMeterFactory meters) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var meter = meters.Create(new MeterOptions("Strata.Serving.Traffic"));
        meter.CreateObservableGauge("strata.serving.traffic_weight", Observe,
            description: "Weight of each arm of the model's traffic split in force (percent), by policy version");
        return Task.CompletedTask;
    }

    private IEnumerable<Measurement<int>> Observe()
    {
        foreach (var model in host.Names)
        {
            if (host.PolicyOf(model) is not { Version: { Policy.Split: { Count: > 0 } split } version })
            {
                continue;
            }
            foreach (var arm in split)
            {
                yield return new Measurement<int>(arm.Weight ?? 0, new KeyValuePair<string, object?>("model", model),
                    new("arm", arm.Target?.ToString()), new("policy_version", version.Version));
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
