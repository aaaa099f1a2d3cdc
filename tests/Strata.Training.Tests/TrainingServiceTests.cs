using Strata.Contracts;
using Strata.Contracts.Tracking;
using System.Text;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Monitoring;
using Strata.Contracts.Registry;
using Strata.Contracts.Training;
using Strata.Samples;
using Strata.Testing;

namespace Strata.Training.Tests;

public sealed class TrainingServiceTests
{
    private static readonly CleaningRules SeedRules = new(true, [RowFilter.Parse("age > 0")]);

    private static async Task<DatasetVersion> IngestSampleAsync(InProcessModules modules, int rows = 5000) =>
        await modules.Get<IDataClient>().IngestCsvAsync(SampleDataset.Name, new MemoryStream(Encoding.UTF8.GetBytes(SampleDataset.Csv(rows))), SeedRules);

    [Fact]
    public async Task TrainAsync_SeedDataset_RegistersChampionWithHoldoutMetricsAndLineage()
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await IngestSampleAsync(modules);

        var result = await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trees = 50 });

        // The label follows income/age > 2500 with 10% noise: a good model reaches ~0.9 AUC, and 90% accuracy is the ceiling.
        Assert.InRange(result.Metrics["auc"], 0.85, 1.0);
        Assert.InRange(result.Metrics["accuracy"], 0.8, 0.95);
        Assert.InRange(result.Metrics["log_loss"], 0.05, 0.6);
        Assert.Equal(dataset.Rows, result.TrainRows + result.HoldoutRows);
        Assert.InRange(result.HoldoutRows, dataset.Rows * 0.15, dataset.Rows * 0.25);

        var champion = await modules.Get<IRegistryClient>().GetVersionByAliasAsync("seed", "champion");
        Assert.NotNull(champion);
        Assert.Equal(result.Version, champion.Version);
        Assert.Equal(dataset.Id, champion.DatasetVersion);
        Assert.Equal("seed_features", champion.FeatureView);
        Assert.Equal("50", champion.Params["trees"]);
        Assert.Equal(result.Metrics["auc"], champion.Metrics["auc"]);
    }

    [Fact]
    public async Task TrainAsync_EvaluationReport_ConfusionCalibrationCurvesAndImportance()
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await IngestSampleAsync(modules, 4000);

        var result = await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trees = 30, Alias = null });

        var m = result.Metrics;
        Assert.Equal(result.HoldoutRows, m["true_positives"] + m["false_positives"] + m["true_negatives"] + m["false_negatives"]);
        Assert.Equal(m["true_positives"] / (m["true_positives"] + m["false_positives"]), m["precision"], 9);
        Assert.Equal((m["true_positives"] + m["true_negatives"]) / result.HoldoutRows, m["accuracy"], 6);
        Assert.InRange(m["calibration_error"], 0, 0.15); // Platt-calibrated forest
        // The label is income/age > 2500: income and its ratio to age carry it; shuffling them costs AUC.
        foreach (var feature in new[] { "age", "income", "age_squared", "income_per_age" })
        {
            Assert.True(m.ContainsKey($"importance.{feature}"), feature);
        }
        Assert.True(Math.Max(m["importance.income"], m["importance.income_per_age"]) > 0.02, $"income {m["importance.income"]}, ratio {m["importance.income_per_age"]}");

        var run = await modules.Get<Strata.Contracts.Tracking.ITrackingClient>().GetRunAsync(result.RunId!);
        var sha = run.Data.Tags!.Single(t => t.Key == "strata.evaluation_sha256").Value;
        using var report = System.Text.Json.JsonDocument.Parse(await modules.Get<IRegistryClient>().GetArtifactAsync(sha));
        var bins = report.RootElement.GetProperty("calibration").EnumerateArray().ToList();
        Assert.Equal(10, bins.Count);
        Assert.Equal(result.HoldoutRows, bins.Sum(b => b.GetProperty("count").GetInt32()));
        var roc = report.RootElement.GetProperty("roc").EnumerateArray().Select(p => (X: p.GetProperty("x").GetDouble(), Y: p.GetProperty("y").GetDouble())).ToList();
        Assert.Equal((0.0, 0.0), roc[0]);
        Assert.Equal((1.0, 1.0), roc[^1]);
        Assert.Equal(roc.Select(p => p.X).Order(), roc.Select(p => p.X));
        Assert.InRange(report.RootElement.GetProperty("precision_recall").GetArrayLength(), 50, 102);
        Assert.Equal(m["true_negatives"], report.RootElement.GetProperty("confusion").GetProperty("true_negatives").GetDouble());
    }

    [Fact]
    public async Task Search_Grid_EachTrialAChildRun_TheBestRegistered()
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await IngestSampleAsync(modules, 3000);
        var search = new SearchSpace { Trainers = [Trainer.FastForest, Trainer.LightGbm, Trainer.LogisticRegression], Trees = [5, 40] };

        var result = await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Model = "searched", Search = search, Experiment = "search" });

        var tracking = modules.Get<Strata.Contracts.Tracking.ITrackingClient>();
        var parent = await tracking.GetRunAsync(result.RunId!);
        Assert.Equal(5, parent.Data.Metrics!.Single(m => m.Key == "search_trials").Value); // 2 forests, 2 LightGBMs, 1 logistic regression
        var store = modules.Get<Strata.Registry.Tracking.ITrackingStore>();
        var children = (await store.SearchRunsAsync([parent.Info.ExperimentId], Strata.Registry.Tracking.SearchFilter.ParseRuns($"tags.mlflow.parentRunId = '{result.RunId}'"),
            [], Strata.Registry.Tracking.ViewType.ActiveOnly, 100, 0, CancellationToken.None)).Items;
        Assert.Equal(5, children.Count);
        Assert.All(children, c => Assert.Equal(RunStatus.Finished, c.Info.Status));
        var aucs = children.Select(c => (Trainer: c.Data.Params!.Single(p => p.Key == "trainer").Value, Trees: c.Data.Params!.Single(p => p.Key == "trees").Value,
            Auc: c.Data.Metrics!.Single(m => m.Key == "auc").Value)).ToList();
        Assert.Equal(5, aucs.Select(a => (a.Trainer, a.Trees)).Distinct().Count());
        var best = aucs.MaxBy(a => a.Auc);
        var version = await modules.Get<IRegistryClient>().GetVersionAsync("searched", result.Version);
        Assert.Equal((best.Trainer, best.Trees), (version!.Params["trainer"], version.Params["trees"]));
        Assert.Equal(best.Auc, result.Metrics["auc"]);
    }

    [Theory]
    [InlineData(SearchStrategy.Grid, 2, "search.max_trials")]
    [InlineData((SearchStrategy)7, 20, "search.strategy")]
    [InlineData(SearchStrategy.Random, 0, "search.max_trials")]
    public async Task Search_BadSpace_ThrowsNamingTheField(SearchStrategy strategy, int maxTrials, string field)
    {
        await using var modules = await InProcessModules.StartAsync();
        var search = new SearchSpace { Trainers = [Trainer.FastForest, Trainer.FastTree], Trees = [10, 20], Strategy = strategy, MaxTrials = maxTrials };
        var e = await Assert.ThrowsAsync<InputValidationException>(() => modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { Search = search }));
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void Trials_Random_IsASeededSubsetOfTheGrid()
    {
        var request = new TrainingRequest { Seed = 7 };
        var space = new SearchSpace { Trainers = [Trainer.FastForest, Trainer.FastTree, Trainer.LightGbm], Trees = [10, 20, 40, 80], Strategy = SearchStrategy.Random, MaxTrials = 5 };
        var a = TrainingService.Trials(request, space);
        var b = TrainingService.Trials(request, space);
        Assert.Equal(5, a.Count);
        Assert.Equal(a.Select(t => (t.Trainer, t.Trees)), b.Select(t => (t.Trainer, t.Trees)));
        var grid = TrainingService.Trials(request, space with { Strategy = SearchStrategy.Grid, MaxTrials = 100 });
        Assert.Equal(12, grid.Count);
        Assert.All(a, t => Assert.Contains(grid, g => (g.Trainer, g.Trees) == (t.Trainer, t.Trees)));
    }

    [Fact]
    public async Task TrainAsync_KFold_LogsMeanAndSpreadOfTheFolds()
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await IngestSampleAsync(modules, 3000);

        var result = await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trees = 20, Folds = 3, Alias = null });

        Assert.Equal(3, result.Metrics["cv_folds"]);
        Assert.InRange(result.Metrics["cv_auc_mean"], 0.85, 1.0);
        Assert.InRange(result.Metrics["cv_auc_std"], 0, 0.05);
        Assert.InRange(result.Metrics["cv_log_loss_mean"], 0.05, 0.7);
        // The holdout is not one of the folds: its AUC is reported beside them, not replaced.
        Assert.InRange(result.Metrics["auc"], 0.85, 1.0);
        var run = await modules.Get<Strata.Contracts.Tracking.ITrackingClient>().GetRunAsync(result.RunId!);
        Assert.Equal("3", run.Data.Params!.Single(p => p.Key == "folds").Value);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(11)]
    [InlineData(-2)]
    public async Task TrainAsync_BadFolds_ThrowsNamingTheField(int folds)
    {
        await using var modules = await InProcessModules.StartAsync();
        var e = await Assert.ThrowsAsync<InputValidationException>(() => modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { Folds = folds }));
        Assert.Equal("folds", e.Field);
    }

    [Fact]
    public async Task TrainAsync_SameSeed_IsReproducible()
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await IngestSampleAsync(modules, 2000);
        var training = modules.Get<ITrainingClient>();

        var a = await training.TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trees = 20, Alias = null });
        var b = await training.TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trees = 20, Alias = null });

        Assert.Equal(a.Metrics["auc"], b.Metrics["auc"]);
        Assert.Null(await modules.Get<IRegistryClient>().GetVersionByAliasAsync("seed", "champion"));
    }

    [Fact]
    public async Task TrainAsync_NonBinaryLabel_ThrowsAndRegistersNothing()
    {
        await using var modules = await InProcessModules.StartAsync();
        var csv = "age,income,target\n" + string.Join('\n', Enumerable.Range(1, 50).Select(i => $"{i},{i * 1000},{i % 3}"));
        var dataset = await modules.Get<IDataClient>().IngestCsvAsync("multi", new MemoryStream(Encoding.UTF8.GetBytes(csv)), CleaningRules.None);

        var error = await Assert.ThrowsAsync<InputValidationException>(() =>
            modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trees = 5 }));
        Assert.Equal("label", error.Field);
        Assert.Empty(await modules.Get<IRegistryClient>().ListModelsAsync());
    }

    /// <summary>age, income, and two labels of the seed's shape: <c>band</c> (0, 1 or 2 by income/age, 5% noise) and
    /// <c>ratio</c> (income/age in thousands, plus noise).</summary>
    private static async Task<DatasetVersion> IngestValuesAsync(InProcessModules modules, int rows = 3000)
    {
        var random = new Random(11);
        var csv = new StringBuilder("age,income,band,ratio\n");
        for (var i = 0; i < rows; i++)
        {
            var age = random.Next(18, 81);
            var income = random.Next(10_000, 200_001);
            var perAge = income / (double)age;
            var band = random.NextDouble() < 0.05 ? random.Next(3) : perAge < 1500 ? 0 : perAge < 4000 ? 1 : 2;
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{age},{income},{band},{(perAge / 1000) + (random.NextDouble() * 0.2):F4}\n");
        }
        return await modules.Get<IDataClient>().IngestCsvAsync("values", new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), CleaningRules.None);
    }

    [Theory]
    [InlineData(Trainer.FastForest)]
    [InlineData(Trainer.FastTree)]
    [InlineData(Trainer.LightGbm)]
    [InlineData(Trainer.LogisticRegression)]
    [InlineData(Trainer.Sdca)]
    public async Task TrainAsync_Multiclass_ClassesConfusionAndAccuracy(Trainer trainer)
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await IngestValuesAsync(modules);

        var result = await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest
        {
            DatasetId = dataset.Id, Label = "band", Task = TrainingTask.MulticlassClassification, Trainer = trainer, Trees = 30, Model = "bands",
        });

        var m = result.Metrics;
        // 5% of the labels are random: 95% plus a third of those is the ceiling; the bands follow income_per_age, one of the view's features.
        Assert.InRange(m["accuracy"], 0.8, 0.97);
        Assert.InRange(m["macro_accuracy"], 0.75, 0.97);
        Assert.True(m["log_loss"] > 0 && m["log_loss_reduction"] > 0.3, $"log-loss {m["log_loss"]}, reduction {m["log_loss_reduction"]}");
        Assert.Equal(3, m["classes"]);
        Assert.False(m.ContainsKey("auc"));
        var version = (await modules.Get<IRegistryClient>().GetVersionAsync("bands", result.Version))!;
        Assert.Equal(("multiclass_classification", "[0,1,2]", trainer), (version.Params["task"], version.Params["classes"], WireNames.TryParse<Trainer>(version.Params["trainer"], out var named) ? named : (Trainer)(-1)));
        // What serving's multiclass explanations compare against: one typical value per feature (age 18-80: mean ~49).
        var baseline = System.Text.Json.JsonSerializer.Deserialize<double[]>(version.Params["feature_baseline"])!;
        Assert.Equal(4, baseline.Length);
        Assert.InRange(baseline[0], 45, 53);

        var run = await modules.Get<Strata.Contracts.Tracking.ITrackingClient>().GetRunAsync(result.RunId!);
        using var report = System.Text.Json.JsonDocument.Parse(await modules.Get<IRegistryClient>().GetArtifactAsync(run.Data.Tags!.Single(t => t.Key == "strata.evaluation_sha256").Value));
        Assert.Equal("multiclass_classification", report.RootElement.GetProperty("task").GetString());
        Assert.Contains(run.Data.Tags!, t => t.Key == "strata.onnx_sha256"); // every multiclass pipeline converts to ONNX
        var confusion = report.RootElement.GetProperty("class_confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetDouble()).ToArray()).ToArray();
        Assert.Equal(3, confusion.Length);
        Assert.Equal(result.HoldoutRows, confusion.Sum(r => r.Sum()));
        Assert.Equal(m["accuracy"], confusion.Select((r, i) => r[i]).Sum() / result.HoldoutRows, 6);
        Assert.True(m["importance.income_per_age"] > 0.05, $"importance of the ratio {m["importance.income_per_age"]}");
        // Prediction drift's baseline: the holdout's predicted classes, as serving logs them, a categorical profile.
        var score = (await BaselineAsync(modules, version)).Score!;
        Assert.Equal((DistributionProfile.Categorical, result.HoldoutRows), (score.Kind, score.Count));
        Assert.Subset(new HashSet<double> { 0, 1, 2 }, score.Categories!.ToHashSet());
    }

    private static async Task<ModelBaseline> BaselineAsync(InProcessModules modules, ModelVersion version) =>
        System.Text.Json.JsonSerializer.Deserialize<ModelBaseline>(await modules.Get<IRegistryClient>().GetArtifactAsync(version.Params[ModelBaseline.Param]),
            Strata.Contracts.StrataJson.Options)!;

    [Theory]
    [InlineData(Trainer.FastForest)]
    [InlineData(Trainer.FastTree)]
    [InlineData(Trainer.LightGbm)]
    [InlineData(Trainer.Sdca)]
    public async Task TrainAsync_Regression_RmseMaeR2AndResiduals(Trainer trainer)
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await IngestValuesAsync(modules);

        var result = await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest
        {
            DatasetId = dataset.Id, Label = "ratio", Task = TrainingTask.Regression, Trainer = trainer, Trees = 50, Model = "ratio",
        });

        var m = result.Metrics;
        // ratio = income_per_age / 1000 + U(0, 0.2): the noise alone leaves an RMSE of ~0.06 (and the mean offset a linear model learns).
        Assert.InRange(m["r2"], 0.9, 1.0);
        Assert.InRange(m["rmse"], 0.04, 0.6);
        Assert.InRange(m["mae"], 0.02, m["rmse"]);
        Assert.Equal(m["rmse"] * m["rmse"], m["mse"], 6);
        Assert.True(m["residual_p05"] < m["residual_p50"] && m["residual_p50"] < m["residual_p95"]);
        Assert.False(m.ContainsKey("auc"));
        Assert.True(m["importance.income_per_age"] > 0.1 || m["importance.income"] > 0.1, $"ratio {m["importance.income_per_age"]}, income {m["importance.income"]}");
        var version = (await modules.Get<IRegistryClient>().GetVersionAsync("ratio", result.Version))!;
        Assert.Equal(("regression", "none"), (version.Params["task"], version.Params["calibration"]));
        var run = await modules.Get<Strata.Contracts.Tracking.ITrackingClient>().GetRunAsync(result.RunId!);
        Assert.Contains(run.Data.Tags!, t => t.Key == "strata.onnx_sha256"); // every regression pipeline converts to ONNX
        Assert.False(version.Params.ContainsKey("classes"));
        // Prediction drift's baseline: the holdout's predicted values (ratio ~ income_per_age / 1000: mostly within 0-3).
        var score = (await BaselineAsync(modules, version)).Score!;
        Assert.Equal((DistributionProfile.Numeric, result.HoldoutRows), (score.Kind, score.Count));
        Assert.InRange(score.Mean, 0, 5);
    }

    [Theory]
    [InlineData(TrainingTask.MulticlassClassification, "band", "macro_accuracy", "log_loss")]
    [InlineData(TrainingTask.Regression, "ratio", "rmse", "r2")]
    public async Task TrainAsync_KFold_ForMulticlassAndRegression_LogsMeanAndSpread(TrainingTask task, string label, string first, string second)
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await IngestValuesAsync(modules, 1500);

        var result = await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest
        {
            DatasetId = dataset.Id, Label = label, Task = task, Trainer = Trainer.LightGbm, Trees = 20, Folds = 3, Model = "folded", Alias = null,
        });

        var m = result.Metrics;
        Assert.Equal(3, m["cv_folds"]);
        foreach (var name in new[] { first, second })
        {
            Assert.True(m.ContainsKey($"cv_{name}_mean") && m[$"cv_{name}_std"] >= 0, name);
        }
        // The folds see the same kind of data as the holdout (with a third less to train on): the same order of magnitude.
        Assert.InRange(m[$"cv_{first}_mean"], m[first] / 3, m[first] * 3);
    }

    [Theory]
    [InlineData(TrainingTask.Regression, Trainer.LogisticRegression, "band", 0, "trainer")]
    [InlineData((TrainingTask)42, Trainer.FastForest, "band", 0, "task")]
    [InlineData(TrainingTask.MulticlassClassification, Trainer.LightGbm, "band", 1, "folds")]
    [InlineData(TrainingTask.MulticlassClassification, Trainer.LightGbm, "ratio", 0, "label")]
    [InlineData(TrainingTask.MulticlassClassification, Trainer.LightGbm, "income", 0, "label")]
    [InlineData(TrainingTask.MulticlassClassification, Trainer.LightGbm, "missing", 0, "label")]
    public async Task TrainAsync_BadTaskRequests_ThrowNamingTheField_AndRegisterNothing(TrainingTask task, Trainer trainer, string label, int folds, string field)
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await IngestValuesAsync(modules, 400);

        var error = await Assert.ThrowsAsync<InputValidationException>(() => modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest
        {
            DatasetId = dataset.Id, Label = label, Task = task, Trainer = trainer, Folds = folds, Trees = 5, Model = "bad",
        }));
        Assert.Equal(field, error.Field);
        Assert.Empty(await modules.Get<IRegistryClient>().ListModelsAsync());
    }

    /// <summary>age, income and <c>target</c> = 1 when age is a multiple of 7 (2% of labels flipped): a category effect
    /// no monotone function of age captures.</summary>
    private static async Task<DatasetVersion> IngestSevensAsync(InProcessModules modules, int rows = 3000)
    {
        var random = new Random(7);
        var csv = new StringBuilder("age,income,target\n");
        for (var i = 0; i < rows; i++)
        {
            var age = random.Next(18, 81);
            var target = (age % 7 == 0) ^ (random.NextDouble() < 0.02) ? 1 : 0;
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{age},{random.Next(10_000, 200_001)},{target}\n");
        }
        return await modules.Get<IDataClient>().IngestCsvAsync("sevens", new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), CleaningRules.None);
    }

    [Fact]
    public async Task TrainAsync_Categorical_OneHotInThePipeline_LetsALinearModelLearnACategoryEffect()
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await IngestSevensAsync(modules);
        var training = modules.Get<ITrainingClient>();

        var numeric = await training.TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trainer = Trainer.LogisticRegression, Model = "numeric", Alias = null });
        var encoded = await training.TrainAsync(new TrainingRequest
        {
            DatasetId = dataset.Id, Trainer = Trainer.LogisticRegression, Model = "encoded", Alias = null, Categorical = ["age"],
        });

        // A weight per age value separates the multiples of 7 (2% of labels flipped cap the AUC near 0.95); one weight on
        // age (and age squared) cannot.
        Assert.True(numeric.Metrics["auc"] < 0.75, $"numeric age: AUC {numeric.Metrics["auc"]}");
        Assert.True(encoded.Metrics["auc"] > 0.9, $"one-hot age: AUC {encoded.Metrics["auc"]}");
        Assert.True(encoded.Metrics["importance.age"] > 0.2, $"importance of age {encoded.Metrics["importance.age"]}");
        var version = (await modules.Get<IRegistryClient>().GetVersionAsync("encoded", encoded.Version))!;
        Assert.Equal("[\"age\"]", version.Params["categorical"]);
        Assert.False((await modules.Get<IRegistryClient>().GetVersionAsync("numeric", numeric.Version))!.Params.ContainsKey("categorical"));
        var run = await modules.Get<Strata.Contracts.Tracking.ITrackingClient>().GetRunAsync(encoded.RunId!);
        Assert.Contains(run.Data.Tags!, t => t.Key == "strata.onnx_sha256"); // one-hot encoding converts to ONNX
        using var signature = System.Text.Json.JsonDocument.Parse(await modules.Get<IRegistryClient>().GetArtifactAsync(run.Data.Tags!.Single(t => t.Key == "strata.signature_sha256").Value));
        var inputs = signature.RootElement.GetProperty("inputs").EnumerateArray()
            .Select(i => (i.GetProperty("name").GetString(), string.Join(',', i.GetProperty("features").EnumerateArray().Select(f => f.GetString())))).ToList();
        Assert.Equal([("Features", "income,age_squared,income_per_age"), ("Categories", "age")], inputs);
    }

    [Theory]
    [InlineData(TrainingTask.BinaryClassification, Trainer.FastForest, "target")]
    [InlineData(TrainingTask.BinaryClassification, Trainer.LightGbm, "target")]
    [InlineData(TrainingTask.MulticlassClassification, Trainer.Sdca, "age_band")]
    [InlineData(TrainingTask.Regression, Trainer.FastTree, "spend")]
    public async Task TrainAsync_Categorical_EveryTask_TrainsExportsAndKeepsTheEncoding(TrainingTask task, Trainer trainer, string label)
    {
        await using var modules = await InProcessModules.StartAsync();
        var random = new Random(3);
        var csv = new StringBuilder("age,income,target,age_band,spend\n");
        for (var i = 0; i < 1500; i++)
        {
            var age = random.Next(18, 81);
            csv.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"{age},{random.Next(10_000, 200_001)},{(age % 7 == 0 ? 1 : 0)},{age % 3},{((age % 5) * 20) + random.NextDouble():F3}\n");
        }
        var dataset = await modules.Get<IDataClient>().IngestCsvAsync("mixed", new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), CleaningRules.None);

        var result = await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest
        {
            DatasetId = dataset.Id, Task = task, Trainer = trainer, Label = label, Trees = 20, Model = "mixed", Categorical = ["age"],
        });

        var headline = result.Metrics[task.PrimaryMetric()];
        // Each label is a function of the age category: with it one-hot encoded every task fits it closely.
        Assert.True(task == TrainingTask.Regression ? result.Metrics["r2"] > 0.9 : headline > 0.9, $"{task.PrimaryMetric()} {headline}");
        var version = (await modules.Get<IRegistryClient>().GetVersionAsync("mixed", result.Version))!;
        Assert.Equal("[\"age\"]", version.Params["categorical"]);
        var run = await modules.Get<Strata.Contracts.Tracking.ITrackingClient>().GetRunAsync(result.RunId!);
        Assert.Contains(run.Data.Tags!, t => t.Key == "strata.onnx_sha256");
    }

    [Theory]
    [InlineData("weight", "categorical")]          // not a feature of the view
    [InlineData("income_per_age", "categorical")]  // not whole numbers
    [InlineData("income", "categorical")]          // whole numbers, but thousands of distinct values
    [InlineData("age,age", "categorical")]         // named twice
    [InlineData(" ", "categorical")]               // blank
    public async Task TrainAsync_BadCategorical_ThrowsNamingTheField_AndRegistersNothing(string categorical, string field)
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await IngestSevensAsync(modules, 2000);

        var error = await Assert.ThrowsAsync<InputValidationException>(() => modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest
        {
            DatasetId = dataset.Id, Trees = 5, Model = "bad", Categorical = categorical.Split(','),
        }));
        Assert.Equal(field, error.Field);
        Assert.Empty(await modules.Get<IRegistryClient>().ListModelsAsync());
    }

    /// <summary>Fits are interrupted through ML.NET's internal MLContext.CancelExecution (FitCancellation): an ML.NET
    /// upgrade without it fails here, not silently in a job that no longer stops.</summary>
    [Fact]
    public void FitCancellation_MlNetStillOffersItsCancel()
    {
        Assert.True(Strata.Training.Trainers.FitCancellation.Supported);
        // Noise: every tree grows to its full 20 leaves, so 2,000 of them take seconds.
        var random = new Random(1);
        var frame = new Strata.Contracts.Features.TrainingFrame("d", "v", "1", 20_000, ["a", "b", "c", "d"],
            [.. Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 20_000).Select(_ => random.NextDouble()).ToArray())],
            Enumerable.Range(0, 20_000).Select(_ => (double)random.Next(2)).ToArray());
        // Warm (JIT, ML.NET's first use) with a small fit, so the cancel below lands in the big fit's trees.
        Strata.Training.Trainers.BinaryTrainer.Train(frame, Trainer.FastForest, 2, 0.2, 0, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        long cancelledAt = 0;
        using var noted = cancel.Token.Register(() => cancelledAt = System.Diagnostics.Stopwatch.GetTimestamp());
        cancel.CancelAfter(1000);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.ThrowsAny<OperationCanceledException>(() => Strata.Training.Trainers.BinaryTrainer.Train(frame, Trainer.FastForest, 2000, 0.2, 0, cancel.Token));

        Assert.Equal(cancel.Token, error.CancellationToken);
        var afterCancel = System.Diagnostics.Stopwatch.GetElapsedTime(cancelledAt);
        Assert.True(afterCancel < TimeSpan.FromSeconds(0.5), $"stopped {afterCancel.TotalMilliseconds:F0} ms after the cancel ({clock.ElapsedMilliseconds} ms in all)");
    }

    [Fact]
    public void FeatureBaseline_MeanOfFiniteValues_ModeForACategory()
    {
        var frame = new Strata.Contracts.Features.TrainingFrame("d", "v", "1", 5, ["x", "code"],
            [[1, 2, 3, double.NaN, 6], [7, 3, 7, 3, 7]], [0, 1, 0, 1, 0]);
        var layout = Strata.Training.Trainers.FeatureLayout.Create(frame, ["code"]);

        Assert.Equal([3.0, 7.0], TrainingService.FeatureBaseline(frame, layout));
    }

    [Fact]
    public async Task TrainAsync_Threshold_ConfusionPrecisionRecallAndF1AreAtIt()
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await IngestSampleAsync(modules, 4000);
        var training = modules.Get<ITrainingClient>();

        var even = await training.TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trees = 30, Model = "even", Alias = null });
        var eager = await training.TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trees = 30, Model = "eager", Alias = null, Threshold = 0.2 });

        // The same model (same seed and split): a lower threshold calls more rows positive.
        Assert.Equal(even.Metrics["auc"], eager.Metrics["auc"], 9);
        Assert.Equal((0.5, 0.2), (even.Metrics["threshold"], eager.Metrics["threshold"]));
        Assert.True(eager.Metrics["recall"] > even.Metrics["recall"], $"recall {eager.Metrics["recall"]} vs {even.Metrics["recall"]}");
        Assert.True(eager.Metrics["precision"] < even.Metrics["precision"], $"precision {eager.Metrics["precision"]} vs {even.Metrics["precision"]}");
        var m = eager.Metrics;
        Assert.Equal((m["true_positives"] + m["true_negatives"]) / eager.HoldoutRows, m["accuracy"], 9);
        Assert.Equal(2 * m["precision"] * m["recall"] / (m["precision"] + m["recall"]), m["f1"], 9);
        Assert.Equal("0.2", (await modules.Get<IRegistryClient>().GetVersionAsync("eager", eager.Version))!.Params["threshold"]);
    }

    [Theory]
    [InlineData(TrainingTask.BinaryClassification, 0.0)]
    [InlineData(TrainingTask.BinaryClassification, 1.0)]
    [InlineData(TrainingTask.BinaryClassification, double.NaN)]
    [InlineData(TrainingTask.Regression, 0.3)]
    public async Task TrainAsync_BadThreshold_ThrowsNamingTheField(TrainingTask task, double threshold)
    {
        await using var modules = await InProcessModules.StartAsync();
        var error = await Assert.ThrowsAsync<InputValidationException>(() => modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest
        {
            Task = task, Trainer = Trainer.FastTree, Threshold = threshold,
        }));
        Assert.Equal("threshold", error.Field);
    }

    [Theory]
    [InlineData(0, 0.2, "trees")]
    [InlineData(5000, 0.2, "trees")]
    [InlineData(10, 0.0, "holdout_fraction")]
    [InlineData(10, 1.0, "holdout_fraction")]
    public async Task TrainAsync_BadParameters_ThrowNamingField(int trees, double holdout, string field)
    {
        await using var modules = await InProcessModules.StartAsync();
        var error = await Assert.ThrowsAsync<InputValidationException>(() =>
            modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { Trees = trees, HoldoutFraction = holdout }));
        Assert.Equal(field, error.Field);
    }

    [Fact]
    public async Task TrainAsync_NoDataset_ThrowsNotFound()
    {
        await using var modules = await InProcessModules.StartAsync();
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest()));
    }
}
