using System.Globalization;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Registry;
using Strata.Registry.Storage;

namespace Strata.Registry.Rollouts;

/// <summary>Starts and controls rollouts and carries out their steps: each step sets the model's traffic policy (the
/// baseline alias and the candidate, weighted), promotion moves the alias and clears the policy, a rollback or an abort
/// clears it. Every change is stored with its history entry and announced (<c>model.rollout</c>) in one transaction;
/// the traffic change is made first, so a process that dies in between redoes an idempotent change on restart.</summary>
public sealed class RolloutService(IRegistryStore store, RegistryService registry, TimeProvider time, IEventEncoder events, IOutboxSignal outbox) : IRolloutsClient
{
    public async Task<Rollout> StartAsync(RolloutSpec spec, CancellationToken cancellationToken = default)
    {
        spec = (spec ?? throw new InputValidationException("body", "a rollout spec is required")).Normalized();
        var model = spec.Model!;
        var candidate = await registry.GetVersionAsync(model, spec.Candidate!.Value, cancellationToken)
            ?? throw new InputValidationException("candidate", $"model '{model}' has no version {spec.Candidate}");
        var baseline = await registry.GetVersionByAliasAsync(model, spec.Alias!, cancellationToken)
            ?? throw new InputValidationException("alias", $"model '{model}' has no alias '{spec.Alias}' (the baseline the candidate is measured against)");
        if (baseline.Version == candidate.Version)
        {
            throw new InputValidationException("candidate", $"version {candidate.Version} is already {spec.Alias}");
        }
        if (await store.ListRolloutsAsync(model, null, activeOnly: true, cancellationToken) is [var active, ..])
        {
            throw new ResourceConflictException($"model '{model}' has a rollout in progress ({active.Id}): abort it or let it finish first");
        }
        if ((await store.ListExperimentsAsync(model, null, cancellationToken)).FirstOrDefault(e => e.Status == Experiment.Running) is { } experiment)
        {
            throw new ResourceConflictException($"model '{model}' has an experiment running ({experiment.Id}): it owns the traffic until it is stopped");
        }
        var now = time.GetUtcNow();
        var rollout = new Rollout(Guid.CreateVersion7().ToString("N")[..16], model, candidate.Version, baseline.Version, spec, RolloutStatus.Running, 0, spec.Steps![0],
            now, now, now, null, []);
        await registry.SetTrafficPolicyAsync(model, PolicyOf(rollout, rollout.Weight), cancellationToken);
        var entry = new RolloutStepRecord(now, "started", 0, rollout.Weight,
            string.Create(CultureInfo.InvariantCulture, $"v{candidate.Version} against {spec.Alias} (v{baseline.Version}): steps {string.Join(", ", spec.Steps)}% every {spec.Interval}"));
        await store.AddRolloutAsync(rollout, entry, Announce(rollout, entry), cancellationToken);
        outbox.Notify();
        return (await GetAsync(rollout.Id, cancellationToken))!;
    }

    public async Task<Rollout?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ValidateId(id);
        return await store.ListRolloutsAsync(null, id, activeOnly: false, cancellationToken) is [var found, ..] ? found : null;
    }

    public async Task<IReadOnlyList<Rollout>> ListAsync(string? model = null, CancellationToken cancellationToken = default)
    {
        if (model is not null)
        {
            AliasName.ValidateModelName(model);
        }
        return await store.ListRolloutsAsync(model, null, activeOnly: false, cancellationToken);
    }

    /// <summary>The running and paused rollouts (what the controller looks after).</summary>
    public Task<IReadOnlyList<Rollout>> ActiveAsync(CancellationToken cancellationToken) => store.ListRolloutsAsync(null, null, activeOnly: true, cancellationToken);

    public async Task<Rollout> ControlAsync(string id, string action, CancellationToken cancellationToken = default)
    {
        var rollout = await GetAsync(id, cancellationToken) ?? throw new ResourceNotFoundException("rollout", id);
        var now = time.GetUtcNow();
        switch (action)
        {
            case "pause" when rollout.Status == RolloutStatus.Running:
                await TransitionAsync(rollout, rollout with { Status = RolloutStatus.Paused, UpdatedAt = now }, "paused", "paused by request", cancellationToken);
                break;
            case "resume" when rollout.Status == RolloutStatus.Paused:
                // The step starts again: what happened while paused is not judged.
                await TransitionAsync(rollout, rollout with { Status = RolloutStatus.Running, StepStartedAt = now, UpdatedAt = now }, "resumed", "resumed by request",
                    cancellationToken);
                break;
            case "abort" when !RolloutStatus.IsFinal(rollout.Status):
                await registry.SetTrafficPolicyAsync(rollout.Model, null, cancellationToken);
                await TransitionAsync(rollout, rollout with { Status = RolloutStatus.Aborted, Weight = 0, UpdatedAt = now, Reason = "aborted by request" }, "aborted",
                    "aborted by request: every request back to the baseline", cancellationToken);
                break;
            case "pause" or "resume" or "abort":
                throw new ResourceConflictException($"rollout {id} is {rollout.Status}: it cannot {action}");
            default:
                throw new InputValidationException("action", $"'{action}' is not one of {string.Join(", ", RolloutRoutes.Actions)}");
        }
        return (await GetAsync(id, cancellationToken))!;
    }

    /// <summary>Moves the rollout to its next step (the traffic first, then the record).</summary>
    public async Task<bool> AdvanceAsync(Rollout rollout, string detail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        var now = time.GetUtcNow();
        var step = rollout.Step + 1;
        var weight = rollout.Spec.Steps![step];
        await registry.SetTrafficPolicyAsync(rollout.Model, PolicyOf(rollout, weight), cancellationToken);
        return await TransitionAsync(rollout, rollout with { Step = step, Weight = weight, StepStartedAt = now, UpdatedAt = now }, "advanced", detail, cancellationToken);
    }

    /// <summary>The candidate passed its last step: the alias moves to it and the policy is cleared.</summary>
    public async Task<bool> PromoteAsync(Rollout rollout, string detail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        await registry.SetAliasAsync(rollout.Model, rollout.Spec.Alias!, rollout.Candidate, cancellationToken);
        await registry.SetTrafficPolicyAsync(rollout.Model, null, cancellationToken);
        var now = time.GetUtcNow();
        return await TransitionAsync(rollout, rollout with { Status = RolloutStatus.Promoted, UpdatedAt = now, Reason = detail }, "promoted", detail, cancellationToken);
    }

    /// <summary>A gate failed: every request goes back to the baseline, and why is recorded.</summary>
    public async Task<bool> RollBackAsync(Rollout rollout, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        await registry.SetTrafficPolicyAsync(rollout.Model, null, cancellationToken);
        var now = time.GetUtcNow();
        return await TransitionAsync(rollout, rollout with { Status = RolloutStatus.RolledBack, Weight = 0, UpdatedAt = now, Reason = reason }, "rolled_back", reason,
            cancellationToken);
    }

    /// <summary>Records why a step is not judged yet (once per reason and step, so the history does not fill with it).</summary>
    public async Task<bool> WaitingAsync(Rollout rollout, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        if (rollout.History.Count > 0 && rollout.History[^1] is { Kind: "waiting" } last && last.Step == rollout.Step && last.Detail == reason)
        {
            return false;
        }
        return await TransitionAsync(rollout, rollout with { UpdatedAt = time.GetUtcNow() }, "waiting", reason, cancellationToken);
    }

    private async Task<bool> TransitionAsync(Rollout before, Rollout after, string kind, string detail, CancellationToken cancellationToken)
    {
        var entry = new RolloutStepRecord(after.UpdatedAt, kind, after.Step, after.Weight, detail);
        var stored = await store.UpdateRolloutAsync(after, before.UpdatedAt, entry, Announce(after, entry), cancellationToken);
        if (stored)
        {
            outbox.Notify();
        }
        return stored;
    }

    private EncodedEvent Announce(Rollout rollout, RolloutStepRecord entry) => events.Encode(EventTopics.ModelRollout, $"{rollout.Model}/{rollout.Id}",
        new RolloutChangedEvent(rollout.Id, rollout.Model, rollout.Candidate, rollout.Baseline, entry.Kind, rollout.Status, entry.Step, entry.Weight, entry.Detail));

    /// <summary>The traffic policy of a step: the baseline alias and the candidate weighted (sticky if asked).</summary>
    public static TrafficPolicy PolicyOf(Rollout rollout, int weight)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        return new TrafficPolicy
        {
            Split = [new TrafficArm { Target = TrafficTarget.OfAlias(rollout.Spec.Alias!), Weight = 100 - weight }, new TrafficArm { Target = TrafficTarget.OfVersion(rollout.Candidate), Weight = weight }],
            Sticky = rollout.Spec.Sticky,
        };
    }

    private static void ValidateId(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 64 || !id.All(char.IsAsciiLetterOrDigit))
        {
            throw new InputValidationException("id", "is not a rollout id");
        }
    }
}
