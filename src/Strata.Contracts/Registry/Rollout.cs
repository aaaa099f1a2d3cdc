using System.Text.Json.Serialization;
using Strata.Contracts.Errors;

namespace Strata.Contracts.Registry;

/// <summary>What <c>POST /api/rollouts</c> takes: move <see cref="Model"/>'s <see cref="Alias"/> (champion by default)
/// to version <see cref="Candidate"/> through traffic <see cref="Steps"/> (percent of requests to the candidate), each
/// held for <see cref="Interval"/> and passed only if the <see cref="Gates"/> hold; a failed gate rolls back.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record RolloutSpec
{
    public static readonly IReadOnlyList<int> DefaultSteps = [10, 25, 50, 100];
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(5);

    public string? Model { get; init; }

    public int? Candidate { get; init; }

    /// <summary>The alias the candidate takes when it is promoted; its current version is the baseline.</summary>
    public string? Alias { get; init; }

    public IReadOnlyList<int>? Steps { get; init; }

    public TimeSpan? Interval { get; init; }

    public RolloutGates? Gates { get; init; }

    /// <summary>Keeps each user on one side while the weights grow (a user on the candidate stays on it).</summary>
    public StickyAssignment? Sticky { get; init; }

    /// <summary>The spec with every default filled in, checked; throws naming the field.</summary>
    public RolloutSpec Normalized()
    {
        if (Model is null)
        {
            throw new InputValidationException("model", "is required");
        }
        AliasName.ValidateModelName(Model);
        if (Candidate is not > 0)
        {
            throw new InputValidationException("candidate", "must be a version number");
        }
        var alias = Alias ?? "champion";
        AliasName.Validate(alias);
        var steps = Steps ?? DefaultSteps;
        if (steps.Count is 0 or > 20)
        {
            throw new InputValidationException("steps", "must list 1 to 20 traffic percentages, rising, the last 100");
        }
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i] is < 1 or > 100 || (i > 0 && steps[i] <= steps[i - 1]))
            {
                throw new InputValidationException($"steps[{i}]", "must be from 1 to 100 and above the step before");
            }
        }
        if (steps[^1] != 100)
        {
            throw new InputValidationException("steps", "must end at 100 (the candidate takes all traffic before it is promoted)");
        }
        var interval = Interval ?? DefaultInterval;
        if (interval < TimeSpan.FromSeconds(1) || interval > TimeSpan.FromDays(7))
        {
            throw new InputValidationException("interval", "must be from 1 second to 7 days");
        }
        var gates = Gates ?? new RolloutGates();
        gates.Validate();
        Sticky?.Validate();
        return this with { Alias = alias, Steps = steps, Interval = interval, Gates = gates };
    }
}

/// <summary>What a step must show. Error rate and p99 latency are the candidate's against the baseline's over the step;
/// quality (<see cref="Quality"/>, optional) is judged on outcomes fed back since the rollout began.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record RolloutGates
{
    /// <summary>The candidate's error rate may exceed the baseline's by at most this (0.01: one percentage point).</summary>
    public double MaxErrorRateIncrease { get; init; } = 0.01;

    /// <summary>The candidate's p99 latency may be at most this multiple of the baseline's (and always
    /// <see cref="LatencySlackMs"/> above it: sub-millisecond p99s double by noise alone).</summary>
    public double MaxLatencyRatio { get; init; } = 2.0;

    /// <summary>How far above the baseline's p99 the candidate's may always be, in milliseconds.</summary>
    public double LatencySlackMs { get; init; } = 5;

    /// <summary>Requests the candidate must have answered in a step before it is judged (else the step waits).</summary>
    public int MinRequests { get; init; } = 20;

    public QualityGate? Quality { get; init; }

    public void Validate()
    {
        if (!(MaxErrorRateIncrease is >= 0 and <= 1))
        {
            throw new InputValidationException("gates.max_error_rate_increase", "must be from 0 to 1");
        }
        if (!(MaxLatencyRatio is >= 1 and <= 1000))
        {
            throw new InputValidationException("gates.max_latency_ratio", "must be from 1 to 1000");
        }
        if (!(LatencySlackMs is >= 0 and <= 600_000))
        {
            throw new InputValidationException("gates.latency_slack_ms", "must be from 0 to 600000");
        }
        if (MinRequests is < 1 or > 10_000_000)
        {
            throw new InputValidationException("gates.min_requests", "must be from 1 to 10,000,000");
        }
        Quality?.Validate();
    }
}

/// <summary>The candidate's loss on labelled outcomes (<see cref="Metric"/>: <c>log_loss</c> for labels,
/// <c>squared_error</c> for values) may be worse than the baseline's by at most <see cref="Margin"/>. Decided by an
/// always-valid confidence sequence (a mixture sequential probability ratio test) on the difference of mean losses, so
/// looking at every step keeps the chance of promoting a candidate worse by more than the margin at most
/// <see cref="Alpha"/>. Each side needs <see cref="MinOutcomes"/> first; undecided at the last step after
/// <see cref="MaxWaitIntervals"/> more intervals, the rollout is rolled back.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record QualityGate
{
    public const string LogLoss = "log_loss";
    public const string SquaredError = "squared_error";

    public string Metric { get; init; } = LogLoss;

    public double Margin { get; init; } = 0.02;

    public int MinOutcomes { get; init; } = 100;

    public double Alpha { get; init; } = 0.05;

    public int MaxWaitIntervals { get; init; } = 12;

    public void Validate()
    {
        if (Metric is not (LogLoss or SquaredError))
        {
            throw new InputValidationException("gates.quality.metric", $"must be {LogLoss} or {SquaredError}");
        }
        if (!(Margin is >= 0 and < 1e6))
        {
            throw new InputValidationException("gates.quality.margin", "must be a non-negative number");
        }
        if (MinOutcomes is < 2 or > 10_000_000)
        {
            throw new InputValidationException("gates.quality.min_outcomes", "must be from 2 to 10,000,000");
        }
        if (!(Alpha is > 0 and < 0.5))
        {
            throw new InputValidationException("gates.quality.alpha", "must be above 0 and below 0.5");
        }
        if (MaxWaitIntervals is < 0 or > 1000)
        {
            throw new InputValidationException("gates.quality.max_wait_intervals", "must be from 0 to 1000");
        }
    }
}

/// <summary>The states of a rollout.</summary>
public static class RolloutStatus
{
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Promoted = "promoted";
    public const string RolledBack = "rolled_back";
    public const string Aborted = "aborted";

    public static bool IsFinal(string status) => status is Promoted or RolledBack or Aborted;
}

/// <summary>A rollout as stored (<c>GET /api/rollouts/{id}</c>): where it is, why, and every step it took.</summary>
public sealed record Rollout(string Id, string Model, int Candidate, int Baseline, RolloutSpec Spec, string Status, int Step, int Weight,
    DateTimeOffset CreatedAt, DateTimeOffset StepStartedAt, DateTimeOffset UpdatedAt, string? Reason, IReadOnlyList<RolloutStepRecord> History);

/// <summary>One entry of a rollout's history: started, a step passed (the figures that passed it), waiting, paused,
/// resumed, promoted, rolled back (why), aborted.</summary>
public sealed record RolloutStepRecord(DateTimeOffset Time, string Kind, int Step, int Weight, string Detail);
