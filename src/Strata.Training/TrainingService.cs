using Strata.Contracts;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Contracts.Monitoring;
using Strata.Contracts.Registry;
using Strata.Contracts.Tracking;
using Strata.Contracts.Training;
using Strata.Training.Trainers;

namespace Strata.Training;

/// <summary>The Training module in process (<see cref="ITrainingClient"/>): resolves the dataset version, builds the
/// training frame through the Features module, trains and evaluates, and registers the version (with lineage) in the
/// Registry, moving the requested alias. Each training is a tracking run (MLflow's model: experiment = the request's,
/// else the model's name) with the version's params, holdout metrics and lineage tags, and the version records the run
/// (lineage both ways). Everything crosses module lines through client interfaces only.</summary>
public sealed partial class TrainingService(
    IDataClient data, IFeaturesClient features, IRegistryClient registry, ITrackingClient tracking, IEventPublisher events,
    Microsoft.Extensions.Options.IOptions<TrainingOptions> options, TimeProvider time, ILogger<TrainingService> logger, Jobs.OpenRuns openRuns)
    : ITrainingClient, IDisposable
{
    // As many trainings at once as jobs may run (default one: a forest uses every core, two at once only slow each other down).
    private readonly SemaphoreSlim _gate = new(options.Value.MaxConcurrentJobs, options.Value.MaxConcurrentJobs);

    public Task<TrainingResult> TrainAsync(TrainingRequest request, CancellationToken cancellationToken = default) =>
        TrainAsync(request, null, cancellationToken);

    /// <summary>Trains, reporting each stage (fraction done, what it is doing) to <paramref name="progress"/>; the
    /// training job runner shows them as the job's progress and log.</summary>
    public async Task<TrainingResult> TrainAsync(TrainingRequest request, Action<double, string>? progress, CancellationToken cancellationToken)
    {
        request = Complete(request);
        Validate(request);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var clock = Stopwatch.StartNew();
            progress?.Invoke(0.05, "resolving the dataset");
            var dataset = await ResolveDatasetAsync(request, cancellationToken);
            // The frame first: a request it refuses (a label or feature that does not exist, no rows with every feature)
            // leaves no experiment and no FAILED run behind (issue 24).
            progress?.Invoke(0.1, request.TrainsOnStoredFeatures
                ? $"retrieving point-in-time features of {request.FeatureService ?? $"{request.Features!.Count} references"} for the {dataset.Rows} rows of {dataset.Name}@{dataset.Id[..12]}"
                : $"building the training frame of {dataset.Name}@{dataset.Id[..12]} ({dataset.Rows} rows) through {request.View}");
            var frame = await features.BuildTrainingFrameAsync(
                new TrainingFrameRequest(dataset.Id, request.TrainsOnStoredFeatures ? null : request.View, request.Label!) { FeatureService = request.FeatureService, Features = request.Features },
                cancellationToken);
            RequireFinite(frame);
            var experimentId = await tracking.EnsureExperimentAsync(string.IsNullOrEmpty(request.Experiment) ? request.Model! : request.Experiment, cancellationToken);
            List<KeyValue> runTags = [new("strata.model", request.Model!), new("strata.dataset_version", dataset.Id),
                request.TrainsOnStoredFeatures ? new("strata.feature_service", request.FeatureService ?? "features") : new("strata.feature_view", request.View!)];
            if (!string.IsNullOrEmpty(request.RequestId))
            {
                runTags.Add(new KeyValue("strata.request_id", request.RequestId));
            }
            var run = await tracking.CreateRunAsync(experimentId, $"{request.Model}-{time.GetUtcNow():yyyyMMdd-HHmmss}", runTags, cancellationToken);
            openRuns.Opened(run.Info.RunId);
            try
            {
                var result = await TrainAndRegisterAsync(request, dataset, frame, experimentId, run.Info.RunId, clock, progress, cancellationToken);
                await tracking.UpdateRunAsync(run.Info.RunId, RunStatus.Finished, time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None);
                openRuns.Closed(run.Info.RunId);
                TrainingMetrics.Finished(request.Task, "finished", clock.Elapsed);
                return result;
            }
            catch
            {
                TrainingMetrics.Finished(request.Task, cancellationToken.IsCancellationRequested ? "killed" : "failed", clock.Elapsed);
                try
                {
                    await tracking.UpdateRunAsync(run.Info.RunId, cancellationToken.IsCancellationRequested ? RunStatus.Killed : RunStatus.Failed,
                        time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None);
                    openRuns.Closed(run.Info.RunId);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    LogRunNotClosed(logger, run.Info.RunId, e.Message);
                }
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<TrainingResult> TrainAndRegisterAsync(TrainingRequest request, DatasetVersion dataset, TrainingFrame frame, string experimentId, string runId,
        Stopwatch clock, Action<double, string>? progress, CancellationToken cancellationToken)
    {
        TrainedModel trained;
        if (request.Search is { } search)
        {
            (request, trained) = await SearchAsync(request, search, frame, experimentId, runId, progress, cancellationToken);
        }
        else
        {
            progress?.Invoke(0.2, $"training {Describe(request)} on {frame.Rows} rows x {frame.FeatureNames.Count} features");
            trained = await Task.Run(() => Fit(frame, request, cancellationToken), cancellationToken);
        }
        var primary = request.Task.PrimaryMetric();
        var shown = primary switch { "auc" => "AUC", "rmse" => "RMSE", _ => primary.Replace('_', ' ') };
        progress?.Invoke(0.8, string.Create(CultureInfo.InvariantCulture, $"trained: holdout {shown} {trained.Metrics[primary]:F4} on {trained.HoldoutRows} rows"));
        cancellationToken.ThrowIfCancellationRequested();

        var parameters = TrainingParams(request, trained);
        if (frame.Selection is { } selection)
        {
            // What serving fetches online (the same references, by the same keys), and the lineage of the features.
            parameters[FeatureSelection.Param] = selection.ToJson();
            parameters["label"] = request.Label!;
            parameters["definitions_version"] = selection.DefinitionsVersion.ToString(CultureInfo.InvariantCulture);
            parameters["rows_without_features"] = selection.DroppedRows.ToString(CultureInfo.InvariantCulture);
        }
        if (request.Task == TrainingTask.MulticlassClassification)
        {
            // What serving's multiclass explanations replace each feature with (ML.NET has no contributions for them).
            parameters[TrainingParameterNames.FeatureBaseline] = System.Text.Json.JsonSerializer.Serialize(FeatureBaseline(frame, trained.Layout));
        }
        // What drift monitoring compares served predictions with: each feature over the training rows, the holdout's scores.
        var baseline = await Task.Run(() => new ModelBaseline(frame.Rows,
            [.. frame.FeatureNames.Select((name, i) => DistributionProfile.Of(name, frame.Features[i]))],
            trained.HoldoutScores.Count > 0 ? DistributionProfile.Of("score", trained.HoldoutScores) : null), cancellationToken);
        using (var profile = new MemoryStream(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(baseline, Strata.Contracts.StrataJson.Options), writable: false))
        {
            parameters[ModelBaseline.Param] = (await registry.PutArtifactAsync(profile, cancellationToken)).Sha256;
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await tracking.LogBatchAsync(runId, [.. trained.Metrics.Select(m => new Metric(m.Key, m.Value, now, 0))],
            [.. parameters.Select(p => new KeyValue(p.Key, p.Value))], [], cancellationToken);

        progress?.Invoke(0.9, "registering the version");
        using var artifact = new MemoryStream(trained.Artifact, writable: false);
        var stored = await registry.PutArtifactAsync(artifact, cancellationToken);
        // What registering this run's model needs (MLflow's runs:/<run_id>/model source): the artifact and its inputs.
        // The evaluation report (confusion matrix, calibration bins, ROC and PR curves, permutation importance) is an
        // artifact of the run, content-addressed like the model.
        using var evaluation = new MemoryStream(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(trained.Evaluation, Strata.Contracts.StrataJson.Options), writable: false);
        var report = await registry.PutArtifactAsync(evaluation, cancellationToken);
        using var signature = new MemoryStream(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(trained.Signature, Strata.Contracts.StrataJson.Options), writable: false);
        var signed = await registry.PutArtifactAsync(signature, cancellationToken);
        // The ONNX export when the pipeline converts; otherwise the run says why.
        KeyValue onnxTag;
        var (onnxBytes, onnxError) = await Task.Run(() => BinaryTrainer.ExportOnnx(trained.Artifact, trained.Layout), cancellationToken);
        if (onnxBytes is not null)
        {
            using var onnx = new MemoryStream(onnxBytes, writable: false);
            onnxTag = new KeyValue("strata.onnx_sha256", (await registry.PutArtifactAsync(onnx, cancellationToken)).Sha256);
        }
        else
        {
            onnxTag = new KeyValue("strata.onnx_unavailable", onnxError ?? "the pipeline does not convert to ONNX");
        }
        await tracking.LogBatchAsync(runId, [], [], [new KeyValue("strata.artifact_sha256", stored.Sha256), new KeyValue("strata.format", ModelFormats.MlNet),
            new KeyValue("strata.evaluation_sha256", report.Sha256), new KeyValue("strata.signature_sha256", signed.Sha256), onnxTag,
            new KeyValue("strata.feature_view_version", frame.ViewVersion),
            new KeyValue("strata.feature_names", System.Text.Json.JsonSerializer.Serialize(frame.FeatureNames))], cancellationToken);
        var version = await registry.CreateVersionAsync(request.Model!, new NewModelVersion(
            stored.Sha256,
            ModelFormats.MlNet,
            trained.Metrics,
            parameters,
            dataset.Id,
            frame.View,
            frame.ViewVersion,
            frame.FeatureNames,
            $"{Describe(request)} on {dataset.Name}@{dataset.Id[..12]}",
            // A request handled twice (a training.requested event redelivered after a crash) registers one version.
            string.IsNullOrEmpty(request.RequestId) ? null : request.RequestId,
            runId), cancellationToken);
        await tracking.LogBatchAsync(runId, [], [], [new KeyValue("strata.model_version", $"{request.Model}/{version.Version}")], cancellationToken);
        if (!string.IsNullOrEmpty(request.Alias))
        {
            await registry.SetAliasAsync(request.Model!, request.Alias, version.Version, cancellationToken);
        }
        LogTrained(logger, request.Model!, version.Version, primary, trained.Metrics[primary], clock.Elapsed.TotalSeconds);
        var alias = string.IsNullOrEmpty(request.Alias) ? null : request.Alias;
        await events.PublishAsync(EventTopics.ModelTrained, $"{request.Model}/{version.Version}", new ModelTrainedEvent(request.Model!, version.Version,
            alias, dataset.Id, frame.View, trained.Metrics, Math.Round(clock.Elapsed.TotalSeconds, 3), request.RequestId), CancellationToken.None);
        return new TrainingResult(request.Model!, version.Version, string.IsNullOrEmpty(request.Alias) ? null : request.Alias,
            dataset.Id, frame.View, trained.TrainRows, trained.HoldoutRows, trained.Metrics, Math.Round(clock.Elapsed.TotalSeconds, 3), runId);
    }

    /// <summary>Every trial of the search as a child run (same split and seed, so the holdout AUCs compare); the request
    /// with the best trial's trainer and trees, and that trial's model.</summary>
    private async Task<(TrainingRequest Best, TrainedModel Trained)> SearchAsync(TrainingRequest request, SearchSpace search, TrainingFrame frame,
        string experimentId, string parentRunId, Action<double, string>? progress, CancellationToken cancellationToken)
    {
        var trials = Trials(request, search);
        (TrainingRequest Request, TrainedModel Trained)? best = null;
        for (var i = 0; i < trials.Count; i++)
        {
            var trial = trials[i];
            progress?.Invoke(0.2 + (0.6 * i / trials.Count), $"trial {i + 1} of {trials.Count}: {Describe(trial)}");
            var child = await tracking.CreateRunAsync(experimentId, $"{request.Model}-trial-{i + 1}",
                [new("mlflow.parentRunId", parentRunId), new("strata.model", request.Model!), new("strata.trial", (i + 1).ToString(CultureInfo.InvariantCulture))], cancellationToken);
            openRuns.Opened(child.Info.RunId);
            try
            {
                var trained = await Task.Run(() => Fit(frame, trial, cancellationToken), cancellationToken);
                var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                await tracking.LogBatchAsync(child.Info.RunId, [.. trained.Metrics.Select(m => new Metric(m.Key, m.Value, now, 0))],
                    [.. TrainingParams(trial, trained).Select(p => new KeyValue(p.Key, p.Value))], [], cancellationToken);
                await tracking.UpdateRunAsync(child.Info.RunId, RunStatus.Finished, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
                openRuns.Closed(child.Info.RunId);
                if (best is null || Better(request.Task, trained.Metrics, best.Value.Trained.Metrics))
                {
                    best = (trial, trained);
                }
            }
            catch
            {
                await tracking.UpdateRunAsync(child.Info.RunId, cancellationToken.IsCancellationRequested ? RunStatus.Killed : RunStatus.Failed,
                    time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None);
                openRuns.Closed(child.Info.RunId);
                throw;
            }
        }
        await tracking.LogBatchAsync(parentRunId, [new Metric("search_trials", trials.Count, time.GetUtcNow().ToUnixTimeMilliseconds(), 0)],
            [new KeyValue("search_strategy", WireNames.Of(search.Strategy))], [], cancellationToken);
        return best!.Value;
    }

    /// <summary>Models train on 32-bit floats: a value beyond ±3.4e38 (or an infinity a feature's expression computed)
    /// becomes infinite there, and ML.NET then skipped every row and failed with "All instances skipped due to missing
    /// features", a 500 (issue 24). Refused before anything is created, naming the feature or label and its rows.</summary>
    internal static void RequireFinite(TrainingFrame frame)
    {
        for (var f = 0; f <= frame.FeatureNames.Count; f++)
        {
            var (name, values) = f < frame.FeatureNames.Count ? ($"features.{frame.FeatureNames[f]}", frame.Features[f]) : ("label", frame.Label);
            var bad = new List<int>();
            var count = 0;
            for (var r = 0; r < values.Length; r++)
            {
                if (double.IsInfinity(values[r]) || float.IsInfinity((float)values[r]))
                {
                    count++;
                    if (bad.Count < 5)
                    {
                        bad.Add(r);
                    }
                }
            }
            if (count > 0)
            {
                throw new InputValidationException(name, string.Create(CultureInfo.InvariantCulture,
                    $"is out of range in {count} of {values.Length} rows (rows {string.Join(", ", bad)}{(count > bad.Count ? ", ..." : string.Empty)}; row {bad[0]} is {values[bad[0]]:R}): models train on 32-bit floats, which hold at most ±3.4e38; clean or rescale the data"));
            }
        }
    }

    /// <summary>The task's trainer: binary classification, or multiclass and regression (numeric labels).</summary>
    private static TrainedModel Fit(TrainingFrame frame, TrainingRequest request, CancellationToken cancellationToken) =>
        request.Task == TrainingTask.BinaryClassification
            ? BinaryTrainer.Train(frame, request.Trainer, request.Trees, request.HoldoutFraction, request.Seed, cancellationToken, request.Folds, request.Categorical, request.Threshold)
            : ValueTrainer.Train(frame, request.Task, request.Trainer, request.Trees, request.HoldoutFraction, request.Seed, cancellationToken, request.Folds, request.Categorical);

    /// <summary>Whether a trial's headline holdout metric beats the best so far (higher AUC or accuracy, lower RMSE).</summary>
    private static bool Better(TrainingTask task, IReadOnlyDictionary<string, double> trial, IReadOnlyDictionary<string, double> best)
    {
        var metric = task.PrimaryMetric();
        return task.HigherIsBetter() ? trial[metric] > best[metric] : trial[metric] < best[metric];
    }

    /// <summary>The search's trials: every (trainer, trees) combination (logistic regression once: it has no trees), in
    /// order for a grid, a seeded random <see cref="SearchSpace.MaxTrials"/> of them otherwise.</summary>
    internal static List<TrainingRequest> Trials(TrainingRequest request, SearchSpace search)
    {
        var trainers = search.Trainers is { Count: > 0 } t ? t : [request.Trainer];
        var trees = search.Trees is { Count: > 0 } n ? n : [request.Trees];
        var all = trainers.Distinct()
            .SelectMany(trainer => trainer.HasTrees() ? trees.Distinct() : [request.Trees],
                (trainer, count) => request with { Trainer = trainer, Trees = count, Search = null })
            .ToList();
        if (search.Strategy == SearchStrategy.Random && all.Count > search.MaxTrials)
        {
            var random = new Random(request.Seed);
            var picked = all.ToArray();
            random.Shuffle(picked);
            return [.. picked.Take(search.MaxTrials)];
        }
        return all;
    }

    /// <summary>Each feature's typical value on the training frame: the mean of its finite values, or for a categorical
    /// feature its most frequent code (a mean of codes is no category); 0 for a feature with no finite value.</summary>
    internal static double[] FeatureBaseline(TrainingFrame frame, FeatureLayout layout) =>
    [
        .. frame.Features.Select((column, i) =>
        {
            var finite = column.Where(double.IsFinite).ToArray();
            return finite.Length == 0 ? 0
                : layout.Categorical.Contains(i) ? finite.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key
                : Math.Round(finite.Average(), 6);
        }),
    ];

    private static Dictionary<string, string> TrainingParams(TrainingRequest request, TrainedModel trained)
    {
        var parameters = new Dictionary<string, string>
        {
            ["task"] = WireNames.Of(request.Task),
            ["trainer"] = WireNames.Of(request.Trainer),
            ["trees"] = request.Trainer.HasTrees() ? request.Trees.ToString(CultureInfo.InvariantCulture) : "0",
            ["normalization"] = "mean_variance",
            ["calibration"] = Calibration(request),
            ["holdout_fraction"] = request.HoldoutFraction.ToString("R", CultureInfo.InvariantCulture),
            ["seed"] = request.Seed.ToString(CultureInfo.InvariantCulture),
            ["folds"] = request.Folds.ToString(CultureInfo.InvariantCulture),
            ["label"] = request.Label!,
            ["train_rows"] = trained.TrainRows.ToString(CultureInfo.InvariantCulture),
            ["holdout_rows"] = trained.HoldoutRows.ToString(CultureInfo.InvariantCulture),
        };
        if (request.Task == TrainingTask.BinaryClassification)
        {
            parameters[TrainingParameterNames.Threshold] = request.Threshold.ToString("R", CultureInfo.InvariantCulture);
        }
        if (trained.Layout.Parameter is { } categorical)
        {
            // Serving splits its input into the numeric and the categorical vector by this.
            parameters[TrainingParameterNames.Categorical] = categorical;
        }
        if (trained.Classes.Count > 0)
        {
            // Serving names the classes of the model's scores from this (the label's values, in key order).
            parameters[TrainingParameterNames.Classes] = System.Text.Json.JsonSerializer.Serialize(trained.Classes);
        }
        return parameters;
    }

    private static string Calibration(TrainingRequest request) => (request.Task, request.Trainer) switch
    {
        (TrainingTask.Regression, _) => "none",
        (TrainingTask.BinaryClassification, Trainer.FastForest) => "platt",
        (TrainingTask.MulticlassClassification, Trainer.FastForest or Trainer.FastTree) => "one_versus_all_platt",
        _ => "trainer",
    };

    private static string Describe(TrainingRequest request) => (request.Task == TrainingTask.BinaryClassification ? "" : WireNames.Of(request.Task) + " ") + request.Trainer switch
    {
        Trainer.FastForest => $"FastForest({request.Trees})",
        Trainer.FastTree => $"FastTree({request.Trees})",
        Trainer.LightGbm => $"LightGbm({request.Trees})",
        Trainer.Sdca => "Sdca",
        _ => request.Task == TrainingTask.MulticlassClassification ? "LbfgsMaximumEntropy" : "LbfgsLogisticRegression",
    };

    public void Dispose() => _gate.Dispose();

    private async Task<DatasetVersion> ResolveDatasetAsync(TrainingRequest request, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(request.DatasetId))
        {
            return await data.GetDatasetAsync(request.DatasetId, cancellationToken)
                ?? throw new ResourceNotFoundException("dataset", request.DatasetId);
        }
        var versions = await data.ListDatasetsAsync(request.Dataset, cancellationToken);
        return versions.Count > 0 ? versions[0] : throw new ResourceNotFoundException("dataset", request.Dataset!);
    }

    private static string Names(IEnumerable<Trainer> trainers) => string.Join(", ", trainers.Select(WireNames.Of));

    /// <summary>The request with what it leaves out taken from the deployment's defaults (<see cref="TrainingOptions.Defaults"/>);
    /// a dataset name only when no exact dataset version is given.</summary>
    public TrainingRequest Complete(TrainingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.TrainsOnStoredFeatures)
        {
            return request; // the defaults describe the seed example: a request naming its own features names the rest too
        }
        var defaults = options.Value.Defaults;
        return request with
        {
            Dataset = string.IsNullOrEmpty(request.DatasetId) ? request.Dataset ?? defaults.Dataset : request.Dataset,
            View = request.View ?? defaults.View,
            Label = request.Label ?? defaults.Label,
            Model = request.Model ?? defaults.Model,
        };
    }

    /// <summary>Refuses a request that cannot run. After <see cref="Complete"/> and this, its model, view and label are set
    /// (and a dataset or dataset id): the code that follows relies on it.</summary>
    internal static void Validate(TrainingRequest request)
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
        if (request.Experiment is { } experiment && (experiment.Trim().Length == 0 && experiment.Length > 0 || experiment.Length > 250))
        {
            throw new InputValidationException("experiment", "must be a non-blank name of at most 250 characters");
        }
        if (!Enum.IsDefined(request.Task))
        {
            throw new InputValidationException("task", $"must be one of {string.Join(", ", WireNames.All<TrainingTask>())}");
        }
        var trainers = TrainerCatalog.For(request.Task);
        if (!trainers.Contains(request.Trainer))
        {
            throw new InputValidationException("trainer", $"must be one of {Names(trainers)} for {WireNames.Of(request.Task)}");
        }
        if (request.Trees is < 1 or > 2000)
        {
            throw new InputValidationException("trees", "must be between 1 and 2000");
        }
        if (request.Search is { } search)
        {
            if (!Enum.IsDefined(search.Strategy))
            {
                throw new InputValidationException("search.strategy", "must be grid or random");
            }
            if (search.MaxTrials is < 1 or > 100)
            {
                throw new InputValidationException("search.max_trials", "must be between 1 and 100");
            }
            if (search.Trainers?.Any(t => !trainers.Contains(t)) == true)
            {
                throw new InputValidationException("search.trainers", $"must each be one of {Names(trainers)} for {WireNames.Of(request.Task)}");
            }
            if (search.Trees?.Any(t => t is < 1 or > 2000) == true)
            {
                throw new InputValidationException("search.trees", "must each be between 1 and 2000");
            }
            var trials = Trials(request, search).Count;
            if (search.Strategy == SearchStrategy.Grid && trials > search.MaxTrials)
            {
                throw new InputValidationException("search.max_trials", $"the grid has {trials} trials, more than max_trials ({search.MaxTrials}); raise it or search at random");
            }
        }
        if (request.Folds is < 0 or 1 or > 10)
        {
            throw new InputValidationException("folds", "must be 0 (none) or between 2 and 10");
        }
        if (!(request.HoldoutFraction is > 0 and < 1))
        {
            throw new InputValidationException("holdout_fraction", "must be between 0 and 1 (exclusive)");
        }
        if (!(request.Threshold is > 0 and < 1))
        {
            throw new InputValidationException("threshold", "must be between 0 and 1 (exclusive)");
        }
        if (request.Task != TrainingTask.BinaryClassification && request.Threshold != TrainingRequest.DefaultThreshold)
        {
            throw new InputValidationException("threshold", $"is a binary classifier's decision threshold; {WireNames.Of(request.Task)} has none");
        }
        if (string.IsNullOrEmpty(request.DatasetId) && string.IsNullOrEmpty(request.Dataset))
        {
            throw new InputValidationException("dataset", "name a dataset or a dataset_id");
        }
        if (request.TrainsOnStoredFeatures)
        {
            if (!string.IsNullOrEmpty(request.View))
            {
                throw new InputValidationException("view", "give a view, or a feature service / features, not both");
            }
            if (request.FeatureService is not null && request.Features is { Count: > 0 })
            {
                throw new InputValidationException("features", "give a feature service or a list of features, not both");
            }
            if (request.Features?.Any(string.IsNullOrWhiteSpace) == true || request.Features?.Count > 1000)
            {
                throw new InputValidationException("features", "must be at most 1000 'view:feature' references, none blank");
            }
        }
        else if (string.IsNullOrEmpty(request.View))
        {
            throw new InputValidationException("view", "is required (or a feature_service, or features)");
        }
        if (string.IsNullOrEmpty(request.Label))
        {
            throw new InputValidationException("label", "is required");
        }
        if (request.Categorical is { } categorical)
        {
            // Whether each names a feature of the view, and the values, are checked on the training frame.
            if (categorical.Count > 100 || categorical.Any(string.IsNullOrWhiteSpace))
            {
                throw new InputValidationException("categorical", "must be at most 100 feature names, none blank");
            }
            if (categorical.Distinct(StringComparer.Ordinal).Count() < categorical.Count)
            {
                throw new InputValidationException("categorical", "names a feature twice");
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tracking run {RunId} could not be closed: {Reason}")]
    private static partial void LogRunNotClosed(ILogger logger, string runId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trained {Model} v{Version}: holdout {Metric} {Value:F4} in {Seconds:F2}s")]
    private static partial void LogTrained(ILogger logger, string model, int version, string metric, double value, double seconds);
}
