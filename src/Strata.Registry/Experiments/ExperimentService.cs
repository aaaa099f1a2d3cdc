using Strata.Contracts.Errors;
using Strata.Contracts.Monitoring;
using Strata.Contracts.Registry;
using Strata.Registry.Storage;

namespace Strata.Registry.Experiments;

/// <summary>A/B experiments: starting one sets the model's traffic policy (the arms, weighted, sticky) so every exposure
/// is a logged, routed prediction; results join them to outcomes through Monitoring, per arm, as of now (or of the stop).</summary>
public sealed class ExperimentService(IRegistryStore store, RegistryService registry, IMonitoringClient monitoring, TimeProvider time) : IExperimentsClient
{
    public async Task<Experiment> StartAsync(ExperimentSpec spec, CancellationToken cancellationToken = default)
    {
        spec = (spec ?? throw new InputValidationException("body", "an experiment spec is required")).Normalized();
        var model = spec.Model!;
        var versions = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Arms!.Count; i++)
        {
            var arm = spec.Arms[i];
            var version = arm.Target!.Version is { } number
                ? (await registry.GetVersionAsync(model, number, cancellationToken))?.Version
                : (await registry.GetVersionByAliasAsync(model, arm.Target.Alias!, cancellationToken))?.Version;
            if (version is not { } resolved)
            {
                throw new InputValidationException($"arms[{i}].target", $"model '{model}' has no {(arm.Target.Version is null ? "alias" : "version")} {arm.Target}");
            }
            if (versions.ContainsValue(resolved))
            {
                throw new InputValidationException($"arms[{i}].target", $"v{resolved} is already an arm: each arm must be a different version");
            }
            versions[arm.Name!] = resolved;
        }
        if (await store.ListRolloutsAsync(model, null, activeOnly: true, cancellationToken) is [var rollout, ..])
        {
            throw new ResourceConflictException($"model '{model}' has a rollout in progress ({rollout.Id}): it owns the traffic until it ends");
        }
        var experiment = new Experiment(Guid.CreateVersion7().ToString("N")[..16], model, spec, Experiment.Running, versions, time.GetUtcNow(), null);
        await store.AddExperimentAsync(experiment, cancellationToken);
        await registry.SetTrafficPolicyAsync(model, new TrafficPolicy
        {
            // Pinned by number: an alias moving during the experiment does not change what an arm serves.
            Split = [.. spec.Arms.Select(a => new TrafficArm { Target = TrafficTarget.OfVersion(versions[a.Name!]), Weight = a.Weight })],
            Sticky = spec.Sticky,
        }, cancellationToken);
        return experiment;
    }

    public async Task<ExperimentResults?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ValidateId(id);
        if (await store.ListExperimentsAsync(null, id, cancellationToken) is not [var experiment, ..])
        {
            return null;
        }
        var asOf = experiment.StoppedAt ?? time.GetUtcNow();
        var performance = asOf > experiment.StartedAt
            ? await monitoring.GetPerformanceAsync(experiment.Model, experiment.StartedAt, asOf, cancellationToken: cancellationToken)
            : new ModelPerformance(experiment.Model, experiment.StartedAt, asOf, []);
        var arms = experiment.Spec.Arms!.Select(a =>
        {
            var version = experiment.ArmVersions[a.Name!];
            var figures = performance.Versions.FirstOrDefault(v => v.Version == version.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return (a.Name!, version, a.Weight!.Value, figures?.Predictions ?? 0, figures?.Labelled ?? 0, ExperimentStatistics.SampleOf(experiment.Spec.Metric, figures));
        }).ToList();
        return new ExperimentResults(experiment, ExperimentStatistics.Compare(experiment.Spec, arms),
            ExperimentStatistics.SampleRatio([.. arms.Select(a => a.Item4)], [.. arms.Select(a => a.Item3)]), asOf);
    }

    public async Task<IReadOnlyList<Experiment>> ListAsync(string? model = null, CancellationToken cancellationToken = default)
    {
        if (model is not null)
        {
            AliasName.ValidateModelName(model);
        }
        return await store.ListExperimentsAsync(model, null, cancellationToken);
    }

    public async Task<Experiment> StopAsync(string id, CancellationToken cancellationToken = default)
    {
        ValidateId(id);
        var experiment = await store.ListExperimentsAsync(null, id, cancellationToken) is [var found, ..] ? found : throw new ResourceNotFoundException("experiment", id);
        if (experiment.Status != Experiment.Running)
        {
            throw new ResourceConflictException($"experiment {id} is {experiment.Status}");
        }
        await registry.SetTrafficPolicyAsync(experiment.Model, null, cancellationToken);
        await store.StopExperimentAsync(id, time.GetUtcNow(), cancellationToken);
        return (await store.ListExperimentsAsync(null, id, cancellationToken))[0];
    }

    private static void ValidateId(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 64 || !id.All(char.IsAsciiLetterOrDigit))
        {
            throw new InputValidationException("id", "is not an experiment id");
        }
    }
}
