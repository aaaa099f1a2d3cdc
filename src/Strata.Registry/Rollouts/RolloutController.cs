using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts.Errors;
using Strata.Contracts.Monitoring;
using Strata.Contracts.Registry;

namespace Strata.Registry.Rollouts;

/// <summary>Drives running rollouts: every <see cref="RegistryOptions.RolloutTick"/> it looks at each one whose step
/// has lasted its interval and judges the step on what Monitoring measured. Errors and latency: the candidate's over the
/// step against the baseline's over the same window (or since the rollout began, when the baseline had no traffic in
/// it). Quality: the always-valid confidence interval of (candidate − baseline) mean loss on the outcomes fed back since
/// the rollout began. A failed gate rolls back at once; a passed step advances; the last step promotes only once the
/// quality gate (if any) has passed. State lives in the registry database, so a restarted process carries on.</summary>
public sealed partial class RolloutController(RolloutService rollouts, IMonitoringClient monitoring, TimeProvider time, IOptions<RegistryOptions> options,
    ILogger<RolloutController> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RolloutTick, time);
        try
        {
            do
            {
                try
                {
                    await TickAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogTickFailed(logger, e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Judges every running rollout whose step is due; returns how many changed.</summary>
    public async Task<int> TickAsync(CancellationToken cancellationToken)
    {
        var changed = 0;
        foreach (var rollout in await rollouts.ActiveAsync(cancellationToken))
        {
            try
            {
                changed += await StepAsync(rollout, cancellationToken) ? 1 : 0;
            }
            catch (Exception e) when (e is DependencyUnavailableException or HttpRequestException or ResourceNotFoundException or InputValidationException)
            {
                // Monitoring or the registry unreachable, or the model gone: judged again next tick; nothing decided on no data.
                LogStepFailed(logger, rollout.Id, e.Message);
            }
        }
        return changed;
    }

    private async Task<bool> StepAsync(Rollout rollout, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var interval = rollout.Spec.Interval!.Value;
        if (rollout.Status != RolloutStatus.Running || now - rollout.StepStartedAt < interval)
        {
            return false;
        }
        var gates = rollout.Spec.Gates!;
        var (candidate, baseline) = (Text(rollout.Candidate), Text(rollout.Baseline));
        var step = await monitoring.GetPerformanceAsync(rollout.Model, rollout.StepStartedAt, now, cancellationToken: cancellationToken);
        var since = await monitoring.GetPerformanceAsync(rollout.Model, rollout.CreatedAt, now, cancellationToken: cancellationToken);
        var c = step.Versions.FirstOrDefault(v => v.Version == candidate);
        var b = step.Versions.FirstOrDefault(v => v.Version == baseline) is { Predictions: > 0 } inStep ? inStep : since.Versions.FirstOrDefault(v => v.Version == baseline);
        var requests = (c?.Predictions ?? 0) + (c?.Failures ?? 0);
        if (requests < gates.MinRequests)
        {
            return await rollouts.WaitingAsync(rollout, $"v{candidate} answered {requests} of the {gates.MinRequests} requests a step needs", cancellationToken);
        }
        var errorRate = c!.ErrorRate ?? 0;
        var baselineErrors = b?.ErrorRate ?? 0;
        if (errorRate > baselineErrors + gates.MaxErrorRateIncrease)
        {
            return await RollBackAsync(rollout, F($"error rate {errorRate:P2} over step {rollout.Step + 1} ({rollout.Weight}%) against the baseline's {baselineErrors:P2} (at most +{gates.MaxErrorRateIncrease:P2})"), cancellationToken);
        }
        if (c.LatencyP99Ms is { } p99 && b?.LatencyP99Ms is { } baseP99 && p99 > Math.Max(baseP99 * gates.MaxLatencyRatio, baseP99 + gates.LatencySlackMs))
        {
            return await RollBackAsync(rollout, F($"p99 latency {p99:0.###} ms over step {rollout.Step + 1} against the baseline's {baseP99:0.###} ms (at most ×{gates.MaxLatencyRatio}, or +{gates.LatencySlackMs} ms)"),
                cancellationToken);
        }
        var figures = F($"error rate {errorRate:P2} (baseline {baselineErrors:P2}), p99 {c.LatencyP99Ms:0.###} ms (baseline {b?.LatencyP99Ms:0.###} ms)");
        var quality = gates.Quality is { } q ? Judge(q, since.Versions.FirstOrDefault(v => v.Version == candidate), since.Versions.FirstOrDefault(v => v.Version == baseline)) : null;
        if (quality is { Verdict: Verdict.Worse })
        {
            return await RollBackAsync(rollout, "quality: " + quality.Detail, cancellationToken);
        }
        if (rollout.Step + 1 < rollout.Spec.Steps!.Count)
        {
            return await rollouts.AdvanceAsync(rollout, F($"step {rollout.Step + 1} ({rollout.Weight}%) passed: {figures}") + (quality is null ? "" : "; quality: " + quality.Detail),
                cancellationToken);
        }
        if (quality is null or { Verdict: Verdict.NotWorse })
        {
            return await rollouts.PromoteAsync(rollout, F($"all {rollout.Spec.Steps.Count} steps passed: {figures}") + (quality is null ? "" : "; quality: " + quality.Detail),
                cancellationToken);
        }
        // Undecided on quality at the last step: wait for more outcomes, up to the gate's limit.
        if (now - rollout.StepStartedAt >= interval * (1 + gates.Quality!.MaxWaitIntervals))
        {
            return await RollBackAsync(rollout, "quality undecided after waiting " + (interval * (1 + gates.Quality.MaxWaitIntervals)).ToString() + ": " + quality.Detail,
                cancellationToken);
        }
        return await rollouts.WaitingAsync(rollout, "quality undecided: " + quality.Detail, cancellationToken);
    }

    private async Task<bool> RollBackAsync(Rollout rollout, string reason, CancellationToken cancellationToken)
    {
        LogRolledBack(logger, rollout.Id, rollout.Model, rollout.Candidate, reason);
        return await rollouts.RollBackAsync(rollout, reason, cancellationToken);
    }

    public enum Verdict
    {
        Undecided,
        NotWorse,
        Worse,
    }

    public sealed record QualityJudgement(Verdict Verdict, string Detail);

    /// <summary>The quality gate on the loss difference (candidate − baseline; positive is worse): not worse when the
    /// interval's upper end is below the margin, worse when its lower end is above it, undecided otherwise or while
    /// either side has fewer outcomes than the gate needs.</summary>
    public static QualityJudgement Judge(QualityGate gate, VersionPerformance? candidate, VersionPerformance? baseline)
    {
        ArgumentNullException.ThrowIfNull(gate);
        var (nc, nb) = (candidate?.Labelled ?? 0, baseline?.Labelled ?? 0);
        if (nc < gate.MinOutcomes || nb < gate.MinOutcomes || candidate!.LossMean is not { } lc || baseline!.LossMean is not { } lb)
        {
            return new(Verdict.Undecided, F($"{nc} and {nb} labelled outcomes (candidate, baseline); {gate.MinOutcomes} each needed"));
        }
        var (vc, vb) = (candidate.LossVariance ?? 0, baseline.LossVariance ?? 0);
        var tau = ConfidenceSequence.Tau(gate.Margin, ((vc * (nc - 1)) + (vb * (nb - 1))) / Math.Max(nc + nb - 2, 1), gate.MinOutcomes);
        var (low, high) = ConfidenceSequence.Difference(lc, vc, nc, lb, vb, nb, gate.Alpha, tau);
        var detail = F($"{gate.Metric} {lc:0.####} vs {lb:0.####}, difference in [{low:0.####}, {high:0.####}] ({1 - gate.Alpha:P0} always valid), margin {gate.Margin}; {nc} and {nb} outcomes");
        return high < gate.Margin ? new(Verdict.NotWorse, detail) : low > gate.Margin ? new(Verdict.Worse, detail) : new(Verdict.Undecided, detail);
    }

    private static string Text(int version) => version.ToString(CultureInfo.InvariantCulture);

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rollout {Id}: {Model} v{Candidate} rolled back: {Reason}")]
    private static partial void LogRolledBack(ILogger logger, string id, string model, int candidate, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rollout {Id}: its step could not be judged now: {Reason}")]
    private static partial void LogStepFailed(ILogger logger, string id, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rollout tick failed: {Reason}")]
    private static partial void LogTickFailed(ILogger logger, string reason);
}
