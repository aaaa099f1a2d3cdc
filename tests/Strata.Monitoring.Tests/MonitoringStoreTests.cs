using Strata.Contracts.Events;
using Strata.Monitoring;
using Strata.Monitoring.Storage;
using Strata.ServiceDefaults.Sql;
using Strata.Testing;

namespace Strata.Monitoring.Tests;

/// <summary>The monitoring store over each database (SQLite, PostgreSQL): idempotent writes, outcomes joined by request
/// id and row whenever they come, failures per version, retention.</summary>
public abstract class MonitoringStoreTests : IDisposable
{
    protected TempFolder Folder { get; } = new();

    protected abstract SqlMonitoringStore CreateStore();

    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static PredictionMadeEvent Made(string id, int row, string version, double prediction, DateTimeOffset at, string? arm = null) =>
        new("fraud", version, new Dictionary<string, double>(), new Dictionary<string, double>(), prediction, 1.5, null, at, id, row, arm, arm is null ? null : 1);

    [SkippableFact]
    public async Task Outcomes_JoinByRequestAndRow_LateOrCorrected_AndWritesAreIdempotent()
    {
        await using var store = CreateStore();
        await store.InitializeAsync(CancellationToken.None);
        await store.AddPredictionsAsync([Made("a", 0, "1", 0.9, T0, "champion"), Made("a", 1, "1", 0.2, T0, "champion"), Made("b", 0, "2", 0.7, T0.AddMinutes(1), "v2")],
            CancellationToken.None);
        // Redelivered: kept once.
        await store.AddPredictionsAsync([Made("a", 0, "1", 0.9, T0, "champion")], CancellationToken.None);
        // A label days later, one corrected, one for a prediction never logged (kept, joins nothing).
        await store.AddOutcomesAsync([new("a", 0, 0, null, T0.AddDays(3)), new("b", 0, 1, null, T0.AddDays(3)), new("zzz", 0, 1, null, T0)], CancellationToken.None);
        await store.AddOutcomesAsync([new("a", 0, 1, null, T0.AddDays(4), "analyst")], CancellationToken.None);
        await store.AddFailuresAsync([new("fraud", "2", "v2", 1, "c", 400, "age: is required", 0.1, T0.AddMinutes(2)),
            new("fraud", "2", "v2", 1, "c", 400, "age: is required", 0.1, T0.AddMinutes(2))], CancellationToken.None);

        var rows = await store.PredictionsAsync("fraud", T0, T0.AddHours(1), null, CancellationToken.None);
        Assert.Equal(3, rows.Count);
        Assert.Equal(1.0, rows.Single(r => r.Prediction == 0.9).Label);
        Assert.Null(rows.Single(r => r.Prediction == 0.2).Label);
        Assert.Equal(["2"], (await store.PredictionsAsync("fraud", T0, T0.AddHours(1), "2", CancellationToken.None)).Select(r => r.Version));
        Assert.Empty(await store.PredictionsAsync("fraud", T0.AddHours(1), T0.AddHours(2), null, CancellationToken.None));
        Assert.Equal(1, (await store.FailuresAsync("fraud", T0, T0.AddHours(1), null, CancellationToken.None))["2"]);

        var v2 = OutcomeMetrics.Of("2", [.. rows.Where(r => r.Version == "2")], 1);
        Assert.Equal((1L, 1L, 0.5), (v2.Predictions, v2.Failures, v2.ErrorRate!.Value));
        Assert.Equal(["v2"], v2.Arms);

        Assert.True(await store.DeleteBeforeAsync(T0.AddDays(1), CancellationToken.None) >= 4);
        Assert.Empty(await store.PredictionsAsync("fraud", T0, T0.AddHours(1), null, CancellationToken.None));
    }

    [SkippableFact]
    public async Task ServedRows_KeepTheFeatures_NewestFirst_PerVersion()
    {
        await using var store = CreateStore();
        await store.InitializeAsync(CancellationToken.None);
        PredictionMadeEvent With(string id, string version, double amount, DateTimeOffset at) =>
            new("fraud", version, new Dictionary<string, double>(), new Dictionary<string, double> { ["amount"] = amount, ["night"] = double.NaN }, amount / 100, 1,
                null, at, id, 0);
        await store.AddPredictionsAsync([With("a", "1", 10, T0), With("b", "1", 20, T0.AddMinutes(1)), With("c", "2", 30, T0.AddMinutes(2)),
            Made("d", 0, "2", 0.4, T0.AddMinutes(3))], CancellationToken.None);

        var served = await store.ServedAsync("fraud", "1", T0, T0.AddHours(1), 10, CancellationToken.None);
        Assert.Equal([20.0, 10.0], served.Select(r => r.Features!["amount"]));
        Assert.True(double.IsNaN(served[0].Features!["night"]));
        Assert.Equal(0.2, served[0].Prediction);
        Assert.Single(await store.ServedAsync("fraud", "1", T0, T0.AddHours(1), 1, CancellationToken.None));
        // A prediction logged without features (an ONNX model's, say) has none.
        Assert.Null((await store.ServedAsync("fraud", "2", T0, T0.AddHours(1), 10, CancellationToken.None))[0].Features);
        Assert.Equal(["1", "2"], (await store.VersionsAsync("fraud", T0, T0.AddHours(1), CancellationToken.None)).Order());
        Assert.Equal([("fraud", "1"), ("fraud", "2")], (await store.ActiveAsync(T0, T0.AddHours(1), CancellationToken.None)).Order());
        Assert.Empty(await store.ActiveAsync(T0.AddHours(1), T0.AddHours(2), CancellationToken.None));
    }

    public void Dispose()
    {
        Folder.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteMonitoringStoreTests : MonitoringStoreTests
{
    protected override SqlMonitoringStore CreateStore() => new(SqlDialect.Sqlite(Path.Combine(Folder.Path, "monitoring.db")));
}

public sealed class PostgresMonitoringStoreTests(PostgresFixture postgres) : MonitoringStoreTests, IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private string? _database;

    public async Task InitializeAsync() => _database = postgres.Server is null ? null : await postgres.Server.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    protected override SqlMonitoringStore CreateStore()
    {
        Skip.If(_database is null, PostgresServer.InstallHint);
        return new SqlMonitoringStore(SqlDialect.Postgres(_database!));
    }
}

public sealed class OutcomeMetricsTests
{
    [Fact]
    public void Calibration_IsTheCountWeightedGapPerBin_AndZeroWhenRatesMatch()
    {
        // Bin [0.2, 0.3): 10 predictions of 0.25, 3 positive (rate 0.3, gap 0.05); bin [0.9, 1.0]: 10 of 0.95, all positive (gap 0.05).
        var rows = Enumerable.Range(0, 10).Select(i => new JoinedPrediction("1", null, 0.25, 1, i < 3 ? 1 : 0, null))
            .Concat(Enumerable.Range(0, 10).Select(_ => new JoinedPrediction("1", null, 0.95, 1, 1, null))).ToList();
        var performance = OutcomeMetrics.Of("1", rows, 0);
        Assert.Equal(0.05, performance.CalibrationError!.Value, 12);
        Assert.Equal([(0.2, 10L, 0.3), (0.9, 10L, 1.0)], performance.Calibration!.Select(b => (Math.Round(b.Lower, 10), b.Count, Math.Round(b.PositiveRate, 10))));
        var exact = Enumerable.Range(0, 10).Select(i => new JoinedPrediction("1", null, 0.5, 1, i < 5 ? 1 : 0, null)).ToList();
        Assert.Equal(0, OutcomeMetrics.Of("1", exact, 0).CalibrationError!.Value, 12);
        Assert.Null(OutcomeMetrics.Of("1", [new JoinedPrediction("1", null, 3.5, 1, null, 4.0)], 0).CalibrationError);
    }

    [Fact]
    public void Auc_IsTheShareOfPositiveNegativePairsRankedRight_TiesHalf()
    {
        var random = new Random(7);
        var rows = Enumerable.Range(0, 300).Select(_ => (Score: Math.Round(random.NextDouble(), 2), Positive: random.NextDouble() < 0.3)).ToList();
        double pairs = 0, right = 0;
        foreach (var p in rows.Where(r => r.Positive))
        {
            foreach (var n in rows.Where(r => !r.Positive))
            {
                pairs++;
                right += p.Score > n.Score ? 1 : p.Score == n.Score ? 0.5 : 0;
            }
        }
        Assert.Equal(right / pairs, OutcomeMetrics.Auc(rows)!.Value, 12);
        Assert.Null(OutcomeMetrics.Auc([(0.3, true)]));
    }

    [Fact]
    public void Figures_ForLabelsAndForValues()
    {
        JoinedPrediction Row(double p, double? label = null, double? value = null) => new("1", null, p, 1, label, value);
        var labelled = OutcomeMetrics.Of("1", [Row(0.9, 1), Row(0.8, 0), Row(0.1, 0), Row(0.4, 1), Row(0.5)], 0);
        Assert.Equal((5L, 4L, 2L), (labelled.Predictions, labelled.Labelled, labelled.Positives));
        Assert.Equal((0.5, 0.5, 0.5), (labelled.Accuracy!.Value, labelled.Precision!.Value, labelled.Recall!.Value));
        Assert.Equal(0.75, labelled.Auc!.Value, 12);
        Assert.Equal((-Math.Log(0.9) - Math.Log(0.2) - Math.Log(0.9) - Math.Log(0.4)) / 4, labelled.LogLoss!.Value, 12);
        Assert.Equal(0.5, labelled.Threshold);
        // At 0.85 only 0.9 is positive: precision 1/1, recall 1/2, accuracy 3/4 (0.9 right; 0.8, 0.1 right negatives; 0.4 wrong).
        var strict = OutcomeMetrics.Of("1", [Row(0.9, 1), Row(0.8, 0), Row(0.1, 0), Row(0.4, 1), Row(0.5)], 0, threshold: 0.85);
        Assert.Equal((0.75, 1.0, 0.5, 0.85), (strict.Accuracy!.Value, strict.Precision!.Value, strict.Recall!.Value, strict.Threshold!.Value));
        Assert.Equal(labelled.Auc, strict.Auc);
        var valued = OutcomeMetrics.Of("1", [Row(10, value: 12), Row(5, value: 4)], 0);
        Assert.Equal((1.5, Math.Sqrt(2.5)), (valued.Mae!.Value, valued.Rmse!.Value));
        Assert.Null(valued.Threshold);
    }

    [Fact]
    public void DecisionThreshold_PerModel_OverridesTheDefault()
    {
        var options = new MonitoringOptions { DecisionThreshold = 0.6 };
        options.DecisionThresholds["fraud"] = 0.8;
        Assert.Equal((0.8, 0.6), (options.ThresholdOf("fraud"), options.ThresholdOf("seed")));
    }
}
