using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Registry;
using Strata.Events;
using Strata.Monitoring;
using Strata.Monitoring.Storage;
using Strata.Registry.Artifacts;
using Strata.Registry.Rollouts;
using Strata.Registry.Storage;
using Strata.ServiceDefaults.Sql;
using Strata.Testing;

namespace Strata.Registry.Tests;

/// <summary>Rollouts on a fake clock (issue 20): the registry and the monitoring store are real (SQLite); the traffic the
/// steps would see is written into the monitoring store as serving's prediction log would, timed by the fake clock.</summary>
public sealed class RolloutTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly Random _random = new(11);
    private SqlRegistryStore _store = null!;
    private SqlMonitoringStore _monitoringStore = null!;
    private RegistryService _registry = null!;
    private RolloutService _rollouts = null!;
    private RolloutController _controller = null!;
    private int _requests;

    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    public async Task InitializeAsync()
    {
        _monitoringStore = new SqlMonitoringStore(SqlDialect.Sqlite(Path.Combine(_folder.Path, "monitoring.db")));
        await _monitoringStore.InitializeAsync(CancellationToken.None);
        await OpenAsync();
        var sha = (await _registry.PutArtifactAsync(new MemoryStream("model"u8.ToArray()))).Sha256;
        var version = new NewModelVersion(sha, ModelFormats.MlNet, new Dictionary<string, double>(), new Dictionary<string, string>(), null, "view", "1", ["x"]);
        await _registry.CreateVersionAsync("m", version);
        await _registry.CreateVersionAsync("m", version);
        await _registry.SetAliasAsync("m", "champion", 1);
    }

    /// <summary>A registry process over the same database (called again: a restart).</summary>
    private async Task OpenAsync()
    {
        _store = SqlRegistryStore.Sqlite(Path.Combine(_folder.Path, "registry.db"));
        await _store.InitializeAsync(CancellationToken.None);
        var codec = new CloudEventCodec(_time, "/strata/registry");
        var outbox = new NoRelay();
        _registry = new RegistryService(_store, new ArtifactStore(Path.Combine(_folder.Path, "artifacts")), _time, codec, outbox);
        _rollouts = new RolloutService(_store, _registry, _time, codec, outbox);
        _controller = new RolloutController(_rollouts, new MonitoringService(_monitoringStore, _registry, Options.Create(new Strata.Monitoring.MonitoringOptions())), _time, Options.Create(new RegistryOptions()),
            NullLogger<RolloutController>.Instance);
    }

    private sealed class NoRelay : IOutboxSignal
    {
        public void Notify()
        {
        }
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _monitoringStore.DisposeAsync();
        _folder.Dispose();
    }

    /// <summary>Requests answered by a version during the step now under way: some failed, the rest logged with a
    /// latency and a score, and (with <paramref name="truth"/>) each outcome fed back: the label drawn from the true
    /// probability, the score the version's guess of it.</summary>
    private async Task TrafficAsync(int version, int requests, double errorRate = 0, double latencyMs = 2,
        Func<double, double>? score = null, bool labelled = false)
    {
        var made = new List<PredictionMadeEvent>();
        var failed = new List<PredictionFailedEvent>();
        var outcomes = new List<PredictionFeedbackEvent>();
        // During the step under way (judged once the clock has moved past it).
        var at = _time.GetUtcNow().AddSeconds(1);
        for (var i = 0; i < requests; i++)
        {
            var id = $"r{++_requests}";
            if (_random.NextDouble() < errorRate)
            {
                failed.Add(new("m", version.ToString(), null, 1, id, 500, "boom", latencyMs, at));
                continue;
            }
            var truth = _random.NextDouble();
            made.Add(new("m", version.ToString(), new Dictionary<string, double>(), new Dictionary<string, double>(), score?.Invoke(truth) ?? truth,
                latencyMs * (0.5 + _random.NextDouble()), null, at, id, 0, $"v{version}", 1));
            if (labelled)
            {
                outcomes.Add(new(id, 0, _random.NextDouble() < truth ? 1 : 0, null, at));
            }
        }
        await _monitoringStore.AddPredictionsAsync(made, CancellationToken.None);
        await _monitoringStore.AddFailuresAsync(failed, CancellationToken.None);
        await _monitoringStore.AddOutcomesAsync(outcomes, CancellationToken.None);
    }

    private async Task<Rollout> NextIntervalAsync(Rollout rollout)
    {
        _time.Advance(Interval);
        await _controller.TickAsync(CancellationToken.None);
        return (await _rollouts.GetAsync(rollout.Id))!;
    }

    private async Task<int?> CandidateWeightAsync() =>
        (await _registry.GetTrafficPolicyAsync("m"))?.Policy?.Split?.Single(a => a.Target!.Version == 2).Weight;

    private static RolloutSpec Spec(QualityGate? quality = null) => new()
    {
        Model = "m",
        Candidate = 2,
        Steps = [10, 50, 100],
        Interval = Interval,
        Gates = new RolloutGates { Quality = quality },
    };

    [Fact]
    public async Task HealthyCandidate_IsPromotedThroughEveryStep()
    {
        var rollout = await _rollouts.StartAsync(Spec());
        Assert.Equal((RolloutStatus.Running, 1), (rollout.Status, rollout.Baseline));
        foreach (var weight in new[] { 10, 50, 100 })
        {
            Assert.Equal(weight, await CandidateWeightAsync());
            // Not judged before its interval has passed.
            _time.Advance(Interval / 2);
            Assert.Equal(0, await _controller.TickAsync(CancellationToken.None));
            await TrafficAsync(2, weight * 2);
            await TrafficAsync(1, (100 - weight) * 2);
            _time.Advance(Interval / 2);
            Assert.Equal(1, await _controller.TickAsync(CancellationToken.None));
        }
        rollout = (await _rollouts.GetAsync(rollout.Id))!;
        Assert.Equal(RolloutStatus.Promoted, rollout.Status);
        Assert.Equal(["started", "advanced", "advanced", "promoted"], rollout.History.Select(h => h.Kind));
        Assert.Equal(2, (await _registry.GetVersionByAliasAsync("m", "champion"))!.Version);
        Assert.Null((await _registry.GetTrafficPolicyAsync("m"))!.Policy);
        var announced = (await _store.PendingOutboxAsync(100, CancellationToken.None)).Where(e => e.Topic == EventTopics.ModelRollout).ToList();
        Assert.Equal(4, announced.Count);
    }

    [Fact]
    public async Task CandidateThatReturnsErrors_IsRolledBackWithinOneInterval()
    {
        var rollout = await _rollouts.StartAsync(Spec());
        await TrafficAsync(2, 100, errorRate: 0.3);
        await TrafficAsync(1, 900);
        rollout = await NextIntervalAsync(rollout);
        Assert.True(RolloutStatus.RolledBack == rollout.Status, string.Join(" | ", rollout.History.Select(h => h.Kind + ": " + h.Detail)));
        Assert.Contains("error rate", rollout.Reason, StringComparison.Ordinal);
        Assert.Null((await _registry.GetTrafficPolicyAsync("m"))!.Policy);
        Assert.Equal(1, (await _registry.GetVersionByAliasAsync("m", "champion"))!.Version);
    }

    [Fact]
    public async Task CandidateThatIsSlow_IsRolledBack_AndOneWithoutTrafficWaits()
    {
        var rollout = await _rollouts.StartAsync(Spec());
        await TrafficAsync(2, 5);
        rollout = await NextIntervalAsync(rollout);
        Assert.Equal((RolloutStatus.Running, "waiting"), (rollout.Status, rollout.History[^1].Kind));
        await TrafficAsync(2, 100, latencyMs: 40);
        await TrafficAsync(1, 900, latencyMs: 2);
        rollout = await NextIntervalAsync(rollout);
        Assert.Equal(RolloutStatus.RolledBack, rollout.Status);
        Assert.Contains("p99 latency", rollout.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CandidateWorseOnLabels_IsRolledBack()
    {
        var gate = new QualityGate { Margin = 0.02, MinOutcomes = 200 };
        var rollout = await _rollouts.StartAsync(Spec(gate));
        // The baseline knows the true probability; the candidate guesses wildly.
        for (var i = 0; i < 10 && rollout.Status == RolloutStatus.Running; i++)
        {
            await TrafficAsync(2, 100 * (rollout.Weight / 10), score: _ => _random.NextDouble(), labelled: true);
            await TrafficAsync(1, 100 * (10 - (rollout.Weight / 10)), labelled: true);
            rollout = await NextIntervalAsync(rollout);
        }
        Assert.Equal(RolloutStatus.RolledBack, rollout.Status);
        Assert.StartsWith("quality: log_loss", rollout.Reason, StringComparison.Ordinal);
        Assert.Equal(1, (await _registry.GetVersionByAliasAsync("m", "champion"))!.Version);
    }

    [Fact]
    public async Task CandidateBetterOnLabels_IsPromoted_OnlyOnceQualityIsDecided()
    {
        var gate = new QualityGate { Margin = 0.02, MinOutcomes = 200 };
        var rollout = await _rollouts.StartAsync(Spec(gate));
        var kinds = new List<string>();
        for (var i = 0; i < 12 && rollout.Status == RolloutStatus.Running; i++)
        {
            // The candidate knows the true probability; the baseline's guess is blurred.
            var share = Math.Max(1, rollout.Weight / 10);
            await TrafficAsync(2, 60 * share, labelled: true);
            await TrafficAsync(1, 60 * Math.Max(1, 10 - share), score: t => Math.Clamp(t + ((_random.NextDouble() - 0.5) * 0.8), 0.01, 0.99), labelled: true);
            rollout = await NextIntervalAsync(rollout);
        }
        Assert.Equal(RolloutStatus.Promoted, rollout.Status);
        Assert.Contains("quality: log_loss", rollout.Reason, StringComparison.Ordinal);
        Assert.Equal(2, (await _registry.GetVersionByAliasAsync("m", "champion"))!.Version);
    }

    [Fact]
    public async Task Restart_InTheMiddle_ResumesWhereItWas()
    {
        var rollout = await _rollouts.StartAsync(Spec());
        await TrafficAsync(2, 50);
        await TrafficAsync(1, 450);
        rollout = await NextIntervalAsync(rollout);
        Assert.Equal((1, 50), (rollout.Step, rollout.Weight));

        await _store.DisposeAsync();
        await OpenAsync();
        rollout = (await _rollouts.GetAsync(rollout.Id))!;
        Assert.Equal((RolloutStatus.Running, 1, 50), (rollout.Status, rollout.Step, rollout.Weight));
        await TrafficAsync(2, 250);
        await TrafficAsync(1, 250);
        rollout = await NextIntervalAsync(rollout);
        Assert.Equal((2, 100), (rollout.Step, rollout.Weight));
        await TrafficAsync(2, 500);
        rollout = await NextIntervalAsync(rollout);
        Assert.Equal(RolloutStatus.Promoted, rollout.Status);
    }

    [Fact]
    public async Task PauseResumeAbort_AndOneRolloutPerModel()
    {
        var rollout = await _rollouts.StartAsync(Spec());
        await Assert.ThrowsAsync<ResourceConflictException>(() => _rollouts.StartAsync(Spec()));
        rollout = await _rollouts.ControlAsync(rollout.Id, "pause");
        await TrafficAsync(2, 100);
        rollout = await NextIntervalAsync(rollout);
        Assert.Equal((RolloutStatus.Paused, 0), (rollout.Status, rollout.Step));
        await Assert.ThrowsAsync<ResourceConflictException>(() => _rollouts.ControlAsync(rollout.Id, "pause"));
        rollout = await _rollouts.ControlAsync(rollout.Id, "resume");
        Assert.Equal(RolloutStatus.Running, rollout.Status);
        rollout = await _rollouts.ControlAsync(rollout.Id, "abort");
        Assert.Equal((RolloutStatus.Aborted, 0), (rollout.Status, rollout.Weight));
        Assert.Null((await _registry.GetTrafficPolicyAsync("m"))!.Policy);
        Assert.Equal("action", (await Assert.ThrowsAsync<InputValidationException>(() => _rollouts.ControlAsync(rollout.Id, "explode"))).Field);
        Assert.Equal(["started", "paused", "resumed", "aborted"], rollout.History.Select(h => h.Kind));
        // Finished: another may start.
        Assert.Equal(RolloutStatus.Running, (await _rollouts.StartAsync(Spec())).Status);
    }

    [Theory]
    [InlineData(null, 2, "model")]
    [InlineData("m", 9, "candidate")]
    [InlineData("m", 1, "candidate")]
    [InlineData("none", 2, "candidate")]
    public async Task BadSpec_IsRefusedNamingTheField(string? model, int candidate, string field)
    {
        var error = await Assert.ThrowsAsync<InputValidationException>(() => _rollouts.StartAsync(new RolloutSpec { Model = model, Candidate = candidate }));
        Assert.Equal(field, error.Field);
        Assert.Equal("steps[1]", Assert.Throws<InputValidationException>(() => (Spec() with { Steps = [50, 20, 100] }).Normalized()).Field);
        Assert.Equal("steps", Assert.Throws<InputValidationException>(() => (Spec() with { Steps = [10, 50] }).Normalized()).Field);
        Assert.Equal("gates.quality.alpha", Assert.Throws<InputValidationException>(() => Spec(new QualityGate { Alpha = 0.7 }).Normalized()).Field);
    }
}

/// <summary>The sequential test, verified by simulation: looking after every batch of outcomes, the chance of ever
/// declaring a candidate "not worse by more than the margin" when it is exactly that much worse stays below α; a
/// candidate as good as the baseline is declared not worse.</summary>
public sealed class ConfidenceSequenceTests
{
    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Runs of up to 40 looks at 50 more outcomes a side, each judged by the rollout gate itself; returns the
    /// share of runs that were ever declared "not worse" (promoted).</summary>
    private static double PromotedShare(double trueDifference, double margin, double alpha, int runs, int seed)
    {
        var random = new Random(seed);
        var gate = new QualityGate { Margin = margin, Alpha = alpha, MinOutcomes = 100 };
        var promoted = 0;
        for (var run = 0; run < runs; run++)
        {
            double sumA = 0, sumSqA = 0, sumB = 0, sumSqB = 0;
            long n = 0;
            for (var look = 0; look < 40; look++)
            {
                for (var i = 0; i < 50; i++)
                {
                    var a = trueDifference + Normal(random);
                    var b = Normal(random);
                    (sumA, sumSqA, sumB, sumSqB) = (sumA + a, sumSqA + (a * a), sumB + b, sumSqB + (b * b));
                    n++;
                }
                var (meanA, meanB) = (sumA / n, sumB / n);
                Strata.Contracts.Monitoring.VersionPerformance Side(string version, double mean, double sumSq) =>
                    new(version, [], n, 0, 0, null, null, n, 0, null, mean, null, null, null, null, null, mean, (sumSq - (n * mean * mean)) / (n - 1));
                if (RolloutController.Judge(gate, Side("2", meanA, sumSqA), Side("1", meanB, sumSqB)).Verdict == RolloutController.Verdict.NotWorse)
                {
                    promoted++;
                    break;
                }
            }
        }
        return promoted / (double)runs;
    }

    [Fact]
    public void AtTheMargin_FalsePromotionsStayBelowAlpha_DespiteLookingFortyTimes()
    {
        var share = PromotedShare(trueDifference: 0.1, margin: 0.1, alpha: 0.05, runs: 2000, seed: 3);
        Assert.True(share <= 0.05, $"{share:P2} of runs promoted a candidate worse by the margin");
    }

    [Fact]
    public void AsGoodAsTheBaseline_IsDeclaredNotWorse()
    {
        var share = PromotedShare(trueDifference: 0, margin: 0.2, alpha: 0.05, runs: 300, seed: 5);
        Assert.True(share >= 0.9, $"only {share:P0} of runs with no difference were declared not worse");
    }

    [Fact]
    public void PValue_IsOneWithoutEvidence_AndSmallWithIt() =>
        Assert.True(ConfidenceSequence.PValue(0, 0.01, 0.1) == 1 && ConfidenceSequence.PValue(1, 0.01, 0.1) < 1e-6);
}
