using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Contracts.Registry;
using Strata.Contracts.Training;
using Strata.Training.Trainers;

namespace Strata.Training;

/// <summary>The Training module in process (<see cref="ITrainingClient"/>): resolves the dataset version, builds the
/// training frame through the Features module, trains and evaluates, and registers the version (with lineage) in the
/// Registry, moving the requested alias. Everything crosses module lines through client interfaces only.</summary>
public sealed partial class TrainingService(
    IDataClient data, IFeaturesClient features, IRegistryClient registry, IEventPublisher events, ILogger<TrainingService> logger) : ITrainingClient, IDisposable
{
    // One training at a time per process: a forest uses every core, two at once only slow each other down.
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<TrainingResult> TrainAsync(TrainingRequest request, CancellationToken cancellationToken = default)
    {
        Validate(request);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var clock = Stopwatch.StartNew();
            var dataset = await ResolveDatasetAsync(request, cancellationToken);
            var frame = await features.BuildTrainingFrameAsync(new TrainingFrameRequest(dataset.Id, request.View, request.Label), cancellationToken);
            var trained = await Task.Run(() => ForestTrainer.Train(frame, request.Trees, request.HoldoutFraction, request.Seed, cancellationToken), cancellationToken);

            using var artifact = new MemoryStream(trained.Artifact, writable: false);
            var stored = await registry.PutArtifactAsync(artifact, cancellationToken);
            var version = await registry.CreateVersionAsync(request.Model, new NewModelVersion(
                stored.Sha256,
                ModelFormats.MlNet,
                trained.Metrics,
                new Dictionary<string, string>
                {
                    ["trainer"] = "fast_forest",
                    ["trees"] = request.Trees.ToString(CultureInfo.InvariantCulture),
                    ["normalization"] = "mean_variance",
                    ["calibration"] = "platt",
                    ["holdout_fraction"] = request.HoldoutFraction.ToString("R", CultureInfo.InvariantCulture),
                    ["seed"] = request.Seed.ToString(CultureInfo.InvariantCulture),
                    ["label"] = request.Label,
                    ["train_rows"] = trained.TrainRows.ToString(CultureInfo.InvariantCulture),
                    ["holdout_rows"] = trained.HoldoutRows.ToString(CultureInfo.InvariantCulture),
                },
                dataset.Id,
                frame.View,
                frame.ViewVersion,
                frame.FeatureNames,
                $"FastForest({request.Trees}) on {dataset.Name}@{dataset.Id[..12]}",
                // A request handled twice (a training.requested event redelivered after a crash) registers one version.
                string.IsNullOrEmpty(request.RequestId) ? null : request.RequestId), cancellationToken);
            if (!string.IsNullOrEmpty(request.Alias))
            {
                await registry.SetAliasAsync(request.Model, request.Alias, version.Version, cancellationToken);
            }
            LogTrained(logger, request.Model, version.Version, trained.Metrics["auc"], clock.Elapsed.TotalSeconds);
            var alias = string.IsNullOrEmpty(request.Alias) ? null : request.Alias;
            await events.PublishAsync(EventTopics.ModelTrained, $"{request.Model}/{version.Version}", new ModelTrainedEvent(request.Model, version.Version,
                alias, dataset.Id, frame.View, trained.Metrics, Math.Round(clock.Elapsed.TotalSeconds, 3), request.RequestId), CancellationToken.None);
            return new TrainingResult(request.Model, version.Version, string.IsNullOrEmpty(request.Alias) ? null : request.Alias,
                dataset.Id, frame.View, trained.TrainRows, trained.HoldoutRows, trained.Metrics, Math.Round(clock.Elapsed.TotalSeconds, 3));
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task<DatasetVersion> ResolveDatasetAsync(TrainingRequest request, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(request.DatasetId))
        {
            return await data.GetDatasetAsync(request.DatasetId, cancellationToken)
                ?? throw new ResourceNotFoundException("dataset", request.DatasetId);
        }
        var versions = await data.ListDatasetsAsync(request.Dataset, cancellationToken);
        return versions.Count > 0 ? versions[0] : throw new ResourceNotFoundException("dataset", request.Dataset);
    }

    private static void Validate(TrainingRequest request)
    {
        if (request is null)
        {
            throw new InputValidationException("body", "a training request is required");
        }
        AliasName.ValidateModelName(request.Model ?? string.Empty);
        if (!string.IsNullOrEmpty(request.Alias))
        {
            AliasName.Validate(request.Alias);
        }
        if (request.Trees is < 1 or > 2000)
        {
            throw new InputValidationException("trees", "must be between 1 and 2000");
        }
        if (!(request.HoldoutFraction is > 0 and < 1))
        {
            throw new InputValidationException("holdout_fraction", "must be between 0 and 1 (exclusive)");
        }
        if (string.IsNullOrEmpty(request.DatasetId) && string.IsNullOrEmpty(request.Dataset))
        {
            throw new InputValidationException("dataset", "name a dataset or a dataset_id");
        }
        if (string.IsNullOrEmpty(request.View))
        {
            throw new InputValidationException("view", "is required");
        }
        if (string.IsNullOrEmpty(request.Label))
        {
            throw new InputValidationException("label", "is required");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Trained {Model} v{Version}: holdout AUC {Auc:F4} in {Seconds:F2}s")]
    private static partial void LogTrained(ILogger logger, string model, int version, double auc, double seconds);
}
