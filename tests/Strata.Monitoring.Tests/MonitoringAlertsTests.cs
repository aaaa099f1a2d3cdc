using System.Text;
using Strata.Contracts.Data;
using Strata.Contracts.Events;
using Strata.Contracts.Monitoring;
using Strata.Contracts.Registry;
using Strata.Contracts.Serving;
using Strata.Contracts.Training;
using Strata.Samples;
using Strata.Testing;
using Xunit.Abstractions;

namespace Strata.Monitoring.Tests;

/// <summary>Monitoring on the real modules composed in process: training keeps a baseline with each version; served
/// predictions whose income drifted are found drifted on income (not age), raise <c>model.drift_detected</c>, and with
/// the policy on request retraining on the newest data, which trains a new version without moving the champion;
/// outcomes that contradict the predictions raise <c>model.performance_degraded</c> against the holdout AUC.</summary>
public sealed class MonitoringAlertsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Drift_And_Degradation_RaiseEvents_AndThePolicyRetrains()
    {
        await using var modules = await InProcessModules.StartAsync(serving: true, new Dictionary<string, string?>
        {
            ["Strata:Serving:PredictionLogSampleRate"] = "1",
            ["Strata:Serving:PredictionLogLinger"] = "00:00:00",
            // Checks run when the test asks (the background loop is off).
            ["Strata:Monitoring:CheckInterval"] = "00:00:00",
            ["Strata:Monitoring:RetrainOnAlert"] = "true",
        });
        var subscriber = modules.Get<IEventSubscriber>();
        var alerts = new Collector();
        var subscriptions = new List<IAsyncDisposable>();
        foreach (var topic in new[] { EventTopics.ModelDriftDetected, EventTopics.ModelPerformanceDegraded, EventTopics.TrainingRequested })
        {
            subscriptions.Add(await subscriber.SubscribeAsync(topic, "alerts-test", alerts.Handle));
        }

        var dataset = await modules.Get<IDataClient>().IngestCsvAsync(SampleDataset.Name, new MemoryStream(Encoding.UTF8.GetBytes(SampleDataset.Csv(3000))),
            new CleaningRules(true, [RowFilter.Parse("age > 0")]));
        var trained = await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trees = 10 });
        var registry = modules.Get<IRegistryClient>();
        var version = (await registry.GetVersionAsync("seed", trained.Version))!;
        var baseline = System.Text.Json.JsonSerializer.Deserialize<ModelBaseline>(await registry.GetArtifactAsync(version.Params[ModelBaseline.Param]),
            Strata.Contracts.StrataJson.Options)!;
        Assert.Equal(version.FeatureNames, baseline.Features.Select(f => f.Name));
        Assert.NotNull(baseline.Score);
        var serving = modules.Get<IServingClient>();
        await Eventually.ValueAsync(() => serving.GetStatusAsync(), s => s.Version == trained.Version, TimeSpan.FromSeconds(20), "serving the trained version");

        // 400 predictions: ages as in training, incomes well above anything training saw.
        var random = new Random(5);
        for (var i = 0; i < 400; i++)
        {
            await serving.PredictAsync(new Dictionary<string, double> { ["age"] = random.Next(18, 81), ["income"] = random.Next(150_000, 400_001) });
        }
        var monitoring = modules.Get<IMonitoringClient>();
        var now = DateTimeOffset.UtcNow;
        var drift = await Eventually.ValueAsync(() => monitoring.GetDriftAsync("seed", now.AddHours(-1), now.AddHours(1)),
            d => d.Versions is [{ Predictions: 400 }], TimeSpan.FromSeconds(20), "the predictions recorded");
        var report = drift.Versions[0];
        foreach (var f in report.Features)
        {
            output.WriteLine($"{f.Name}: PSI {f.Psi:F3}, KS {f.Ks:F3}, p {f.PValue:E2}, drifted {f.Drifted}, out of range {f.OutOfRange}");
        }
        Assert.True(report.Baseline);
        Assert.Contains("income", report.Drifted);
        Assert.DoesNotContain("age", report.Drifted);
        Assert.True(report.Quality.OutOfRange >= 100, $"out of range {report.Quality.OutOfRange}");

        // The alert, once per window, and the retraining it asks for.
        var checks = modules.Get<MonitoringAlerts>();
        Assert.True(await checks.CheckAsync(CancellationToken.None) >= 1);
        Assert.Equal(0, await checks.CheckAsync(CancellationToken.None));
        var detected = await Eventually.ValueAsync(() => Task.FromResult(alerts.Events.Where(e => e.Topic == EventTopics.ModelDriftDetected).ToList()),
            e => e.Count == 1, TimeSpan.FromSeconds(20), "model.drift_detected");
        var data = detected[0].DataAs<ModelDriftDetectedEvent>()!;
        Assert.Equal(("seed", trained.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), 400L), (data.Model, data.ModelVersion, data.Predictions));
        Assert.Contains(data.Features, f => f.Name == "income" && f.Psi > 0.1);
        var requested = await Eventually.ValueAsync(() => Task.FromResult(alerts.Events.Where(e => e.Topic == EventTopics.TrainingRequested).ToList()),
            e => e.Count == 1, TimeSpan.FromSeconds(20), "training.requested");
        var request = requested[0].DataAs<TrainingRequestedEvent>()!.Request;
        Assert.Equal((SampleDataset.Name, "seed", "", 10), (request.Dataset, request.Model, request.Alias, request.Trees));
        // Training takes the request: a new version, the champion unmoved (a rollout decides).
        var retrained = await Eventually.ValueAsync(() => registry.ListVersionsAsync("seed"), v => v.Count == 2, TimeSpan.FromSeconds(60), "the retrained version");
        Assert.Equal(trained.Version, (await registry.GetVersionByAliasAsync("seed", "champion"))!.Version);
        Assert.Equal(version.Params["label"], retrained[^1].Params["label"]);

        // Outcomes that contradict 250 routed predictions (request ids): AUC far below the holdout's.
        var publisher = modules.Get<IEventPublisher>();
        var at = DateTimeOffset.UtcNow;
        var made = Enumerable.Range(0, 250).Select(i => new PredictionMadeEvent("seed", data.ModelVersion, new Dictionary<string, double>(),
            new Dictionary<string, double>(), i / 250.0, 1, null, at, $"r{i}", 0)).ToList();
        foreach (var prediction in made)
        {
            await publisher.PublishAsync(EventTopics.PredictionMade, prediction.RequestId!, prediction);
        }
        foreach (var prediction in made)
        {
            await publisher.PublishAsync(EventTopics.PredictionFeedback, prediction.RequestId!,
                new PredictionFeedbackEvent(prediction.RequestId!, 0, prediction.Prediction < 0.5 ? 1 : 0, null, at));
        }
        await Eventually.ValueAsync(() => monitoring.GetPerformanceAsync("seed", at.AddMinutes(-1), at.AddHours(1)), p => p.Versions is [{ Labelled: 250 }],
            TimeSpan.FromSeconds(20), "the outcomes joined");
        Assert.True(await checks.CheckAsync(CancellationToken.None) >= 1);
        var degraded = (await Eventually.ValueAsync(() => Task.FromResult(alerts.Events.Where(e => e.Topic == EventTopics.ModelPerformanceDegraded).ToList()),
            e => e.Count == 1, TimeSpan.FromSeconds(20), "model.performance_degraded"))[0].DataAs<ModelPerformanceDegradedEvent>()!;
        Assert.Equal(("auc", 250L), (degraded.Metric, degraded.Labelled));
        Assert.True(degraded.Value < 0.1 && degraded.Baseline > 0.8, $"AUC {degraded.Value} against {degraded.Baseline}");

        foreach (var subscription in subscriptions)
        {
            await subscription.DisposeAsync();
        }
    }
}
