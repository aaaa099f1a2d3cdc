using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts;
using Strata.Contracts.Data;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Contracts.Monitoring;
using Strata.Contracts.Registry;
using Strata.Contracts.Training;
using Strata.Monitoring.Storage;

namespace Strata.Monitoring;

/// <summary>Every <see cref="MonitoringOptions.CheckInterval"/>, checks each version that served predictions in the last
/// <see cref="MonitoringOptions.CheckWindow"/>: drift against its training baseline raises <c>model.drift_detected</c>,
/// quality on labelled outcomes worse than its holdout's raises <c>model.performance_degraded</c>, each at most once per
/// version per window; with <see cref="MonitoringOptions.RetrainOnAlert"/>, an alert also requests training on newer data.</summary>
public sealed partial class MonitoringAlerts(MonitoringService monitoring, SqlMonitoringStore store, IRegistryClient registry, IDataClient data,
    IEventPublisher events, IOptionsMonitor<MonitoringOptions> options, TimeProvider time, ILogger<MonitoringAlerts> logger,
    System.Diagnostics.Metrics.IMeterFactory meters) : BackgroundService
{
    private readonly Dictionary<(string Model, string Version, string Kind), DateTimeOffset> _alerted = [];
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The last check's drift of each version that served in its window (what the gauges report).</summary>
    private volatile IReadOnlyList<(string Model, VersionDrift Drift)> _latest = [];

    /// <summary>The gauges Prometheus alerts on: per model, version and feature the PSI of the last check, and per
    /// version the number of features drifted.</summary>
    private void ObserveGauges()
    {
        var meter = meters.Create(new System.Diagnostics.Metrics.MeterOptions("Strata.Monitoring"));
        meter.CreateObservableGauge("strata.monitoring.feature_psi", () => _latest.SelectMany(l => l.Drift.Features.Where(f => f.Psi is not null)
            .Append(l.Drift.Score is { Psi: not null } score ? score with { Name = "(score)" } : null).OfType<FeatureDrift>()
            .Select(f => new System.Diagnostics.Metrics.Measurement<double>(f.Psi!.Value,
                new KeyValuePair<string, object?>("model", l.Model), new("version", l.Drift.Version), new("feature", f.Name)))),
            description: "Population stability index of each feature (and the score) against training, at the last check");
        meter.CreateObservableGauge("strata.monitoring.drifted_features", () => _latest.Select(l => new System.Diagnostics.Metrics.Measurement<long>(
                l.Drift.Drifted.Count, new KeyValuePair<string, object?>("model", l.Model), new("version", l.Drift.Version))),
            description: "Features found drifted at the last check");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ObserveGauges();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var interval = options.CurrentValue.CheckInterval;
                if (interval <= TimeSpan.Zero)
                {
                    // Off: look again later (the setting may change).
                    await Task.Delay(TimeSpan.FromMinutes(1), time, stoppingToken);
                    continue;
                }
                await Task.Delay(interval, time, stoppingToken);
                try
                {
                    await CheckAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogCheckFailed(logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One check of every active version (also what tests call).</summary>
    public async Task<int> CheckAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await CheckAllAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<int> CheckAllAsync(CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var to = time.GetUtcNow();
        var from = to - settings.CheckWindow;
        var raised = 0;
        var latest = new List<(string, VersionDrift)>();
        foreach (var (model, version) in await store.ActiveAsync(from, to, cancellationToken))
        {
            var drift = await monitoring.DriftOfAsync(model, version, from, to, cancellationToken);
            latest.Add((model, drift));
            var scoreDrifted = drift.Score is { Drifted: true };
            if ((drift.Drifted.Count > 0 || scoreDrifted) && Due(model, version, "drift", to, settings.CheckWindow))
            {
                var features = drift.Features.Where(f => f.Drifted).OrderByDescending(f => f.Psi)
                    .Select(f => new DriftedFeature(f.Name, Math.Round(f.Psi ?? 0, 6), f.PValue ?? 0)).ToList();
                await events.PublishAsync(EventTopics.ModelDriftDetected, $"{model}/{version}",
                    new ModelDriftDetectedEvent(model, version, from, to, drift.Predictions, features, drift.Score?.Psi is { } psi ? Math.Round(psi, 6) : null),
                    cancellationToken);
                LogDrift(logger, model, version, string.Join(", ", features.Select(f => f.Name)), drift.Predictions);
                raised++;
                await RetrainAsync(model, version, to, cancellationToken);
            }
            if (await DegradedAsync(model, version, from, to, cancellationToken) is { } degraded && Due(model, version, "performance", to, settings.CheckWindow))
            {
                await events.PublishAsync(EventTopics.ModelPerformanceDegraded, $"{model}/{version}", degraded, cancellationToken);
                LogDegraded(logger, model, version, degraded.Metric, degraded.Value, degraded.Baseline);
                raised++;
                await RetrainAsync(model, version, to, cancellationToken);
            }
        }
        _latest = latest;
        return raised;
    }

    /// <summary>Whether an alert of this kind for this version may be raised now (none within the last window).</summary>
    private bool Due(string model, string version, string kind, DateTimeOffset now, TimeSpan window)
    {
        if (_alerted.TryGetValue((model, version, kind), out var last) && now - last < window)
        {
            return false;
        }
        _alerted[(model, version, kind)] = now;
        return true;
    }

    /// <summary>AUC below the holdout's by more than the tolerance (binary labels), or RMSE above it by more than the
    /// tolerance as a fraction (values), once enough outcomes came back.</summary>
    private async Task<ModelPerformanceDegradedEvent?> DegradedAsync(string model, string version, DateTimeOffset from, DateTimeOffset to,
        CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var performance = (await monitoring.GetPerformanceAsync(model, from, to, version, cancellationToken)).Versions is [var only, ..] ? only : null;
        if (performance is null || performance.Labelled < settings.PerformanceMinOutcomes
            || !int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || await registry.GetVersionAsync(model, number, cancellationToken) is not { } registered)
        {
            return null;
        }
        if (performance.Auc is { } auc && registered.Metrics.TryGetValue("auc", out var holdoutAuc) && auc < holdoutAuc - settings.PerformanceTolerance)
        {
            return new ModelPerformanceDegradedEvent(model, version, from, to, performance.Labelled, "auc", Math.Round(auc, 6), holdoutAuc);
        }
        if (performance.Rmse is { } rmse && registered.Metrics.TryGetValue("rmse", out var holdoutRmse) && rmse > holdoutRmse * (1 + settings.PerformanceTolerance))
        {
            return new ModelPerformanceDegradedEvent(model, version, from, to, performance.Labelled, "rmse", Math.Round(rmse, 6), holdoutRmse);
        }
        return null;
    }

    /// <summary>The retraining policy: the version's training request again, on the newest version of its dataset,
    /// registering without moving an alias. Once per version per window, whichever alert came first.</summary>
    private async Task RetrainAsync(string model, string version, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (!settings.RetrainOnAlert || !Due(model, version, "retrain", now, settings.CheckWindow)
            || !int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || await registry.GetVersionAsync(model, number, cancellationToken) is not { DatasetVersion: { } datasetId } registered
            || await data.GetDatasetAsync(datasetId, cancellationToken) is not { } dataset)
        {
            return;
        }
        var request = RetrainingRequest(registered, dataset.Name, $"retrain-{model}-{version}-{now.ToUnixTimeSeconds()}");
        await events.PublishAsync(EventTopics.TrainingRequested, model, new TrainingRequestedEvent(request.RequestId!, request), cancellationToken);
        LogRetrain(logger, model, version, dataset.Name);
    }

    /// <summary>What trained <paramref name="version"/>, again, on the newest version of <paramref name="dataset"/>.</summary>
    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }

    public static TrainingRequest RetrainingRequest(ModelVersion version, string dataset, string requestId)
    {
        ArgumentNullException.ThrowIfNull(version);
        var p = version.Params;
        var selection = FeatureSelection.FromParams(p);
        return new TrainingRequest
        {
            Dataset = dataset,
            View = selection is null ? version.FeatureView : null,
            FeatureService = selection?.FeatureService,
            Features = selection is { FeatureService: null } ? selection.FeatureRefs : null,
            Label = p.GetValueOrDefault("label"),
            Model = version.Model,
            Task = WireNames.TryParse<TrainingTask>(p.GetValueOrDefault(TrainingParameterNames.Task), out var task) ? task : TrainingTask.BinaryClassification,
            Trainer = WireNames.TryParse<Trainer>(p.GetValueOrDefault("trainer"), out var trainer) ? trainer : Trainer.FastForest,
            Trees = int.TryParse(p.GetValueOrDefault("trees"), NumberStyles.None, CultureInfo.InvariantCulture, out var trees) && trees > 0 ? trees : 100,
            HoldoutFraction = double.TryParse(p.GetValueOrDefault("holdout_fraction"), NumberStyles.Float, CultureInfo.InvariantCulture, out var holdout) ? holdout : 0.2,
            Seed = int.TryParse(p.GetValueOrDefault("seed"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seed) ? seed : 0,
            Categorical = p.TryGetValue(TrainingParameterNames.Categorical, out var categorical)
                ? System.Text.Json.JsonSerializer.Deserialize<List<string>>(categorical) : null,
            Threshold = double.TryParse(p.GetValueOrDefault(TrainingParameterNames.Threshold), NumberStyles.Float, CultureInfo.InvariantCulture, out var threshold)
                ? threshold : TrainingRequest.DefaultThreshold,
            // A retrained version earns the champion alias through a rollout, not by being newer (empty: no alias; null
            // would read back as the default, champion).
            Alias = string.Empty,
            RequestId = requestId,
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drift: {Model} v{Version} drifted on {Features} ({Predictions} predictions)")]
    private static partial void LogDrift(ILogger logger, string model, string version, string features, long predictions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Performance: {Model} v{Version} {Metric} {Value:F4} against {Baseline:F4} at training")]
    private static partial void LogDegraded(ILogger logger, string model, string version, string metric, double value, double baseline);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retraining requested for {Model} (alert on v{Version}) on the newest {Dataset}")]
    private static partial void LogRetrain(ILogger logger, string model, string version, string dataset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Monitoring check failed: {Reason}")]
    private static partial void LogCheckFailed(ILogger logger, string reason);
}
