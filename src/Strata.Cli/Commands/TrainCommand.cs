using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using Spectre.Console;
using Strata.Contracts;
using Strata.Contracts.Http;
using Strata.Contracts.Training;

namespace Strata.Cli.Commands;

/// <summary><c>strata train</c>: submits a training job to a running Strata and follows it with a progress bar (its
/// stage as the description) until it ends; prints the result (metrics, registered version) as a table, or the job as
/// JSON with <c>--json</c>. <c>--no-wait</c> only submits. Ctrl-C while following cancels the job. Exit 0 when it
/// succeeded, 1 when it failed, was cancelled or the server refused the request.</summary>
public static class TrainCommand
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public static Command Create()
    {
        var url = CommonOptions.Url("the gateway or the training service");
        var json = CommonOptions.Json();
        var dataset = new Option<string?>("--dataset", "-d") { Description = "Dataset name (its newest version); default: seed" };
        var datasetId = new Option<string?>("--dataset-id") { Description = "An exact dataset version id" };
        var view = new Option<string?>("--view") { Description = "Feature view the training frame is built through; default: seed_features" };
        var label = new Option<string?>("--label") { Description = "Label column; default: target" };
        var model = new Option<string?>("--model", "-m") { Description = "Model to register the version under; default: seed" };
        var task = new Option<string>("--task") { Description = $"One of {string.Join(", ", TaskNames.All)}", DefaultValueFactory = _ => TaskNames.BinaryClassification };
        task.AcceptOnlyFromAmong([.. TaskNames.All]);
        var trainer = new Option<string>("--trainer", "-t") { Description = $"One of {string.Join(", ", TrainerNames.All)}", DefaultValueFactory = _ => TrainerNames.FastForest };
        trainer.AcceptOnlyFromAmong([.. TrainerNames.All]);
        var trees = new Option<int>("--trees") { Description = "Trees / boosting iterations", DefaultValueFactory = _ => 100 };
        var holdout = new Option<double>("--holdout") { Description = "Holdout fraction", DefaultValueFactory = _ => 0.2 };
        var seed = new Option<int>("--seed") { Description = "Split and trainer seed" };
        var folds = new Option<int>("--folds") { Description = "k-fold cross-validation on the training split (2-10; 0 for none)" };
        var alias = new Option<string?>("--alias", "-a") { Description = "Alias to move to the new version (default champion; '' registers without one)" };
        var experiment = new Option<string?>("--experiment", "-e") { Description = "Tracking experiment; default: the model's name" };
        var noWait = new Option<bool>("--no-wait") { Description = "Submit the job and print it, without following it" };
        var threshold = new Option<double>("--threshold")
        {
            Description = "Binary classification: the decision threshold the holdout's confusion matrix, precision, recall and F1 are computed at",
            DefaultValueFactory = _ => TrainingRequest.DefaultThreshold,
        };
        var categorical = new Option<string[]>("--categorical", "-c")
        {
            Description = "A feature coded as whole-number categories, one-hot encoded in the saved pipeline (repeat, or comma-separate)",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("train", "Train a model as a job on a running Strata and follow its progress")
        {
            url, json, dataset, datasetId, view, label, model, task, trainer, trees, holdout, seed, folds, alias, experiment, categorical, threshold, noWait,
        };
        trees.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 2000)
            {
                r.AddError("--trees must be between 1 and 2000");
            }
        });
        folds.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or 1 or > 10)
            {
                r.AddError("--folds must be 0 (none) or between 2 and 10");
            }
        });
        holdout.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is not (> 0 and < 1))
            {
                r.AddError("--holdout must be between 0 and 1 (exclusive)");
            }
        });
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var defaults = new TrainingRequest();
            var request = new TrainingRequest
            {
                DatasetId = parse.GetValue(datasetId),
                Dataset = parse.GetValue(dataset) ?? defaults.Dataset,
                View = parse.GetValue(view) ?? defaults.View,
                Label = parse.GetValue(label) ?? defaults.Label,
                Model = parse.GetValue(model) ?? defaults.Model,
                Task = parse.GetValue(task)!,
                Trainer = parse.GetValue(trainer)!,
                Trees = parse.GetValue(trees),
                HoldoutFraction = parse.GetValue(holdout),
                Seed = parse.GetValue(seed),
                Folds = parse.GetValue(folds),
                Alias = parse.GetResult(alias) is null ? defaults.Alias : parse.GetValue(alias),
                Experiment = parse.GetValue(experiment),
                Threshold = parse.GetValue(threshold),
                Categorical = parse.GetValue(categorical) is { Length: > 0 } names
                    ? [.. names.SelectMany(n => n.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))]
                    : null,
            };
            var job = (await ModuleHttp.SendAsync<TrainingJob>(http, ModuleNames.Training,
                () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(TrainingRoutes.Prefix, TrainingRoutes.Jobs)) { Content = JsonContent.Create(request, options: StrataJson.Options) }, ct))!;
            if (parse.GetValue(noWait))
            {
                return parse.GetValue(json) ? CommonOptions.PrintJson(job) : Submitted(job);
            }
            var ended = await FollowAsync(http, job, showProgress: !parse.GetValue(json) && !Console.IsOutputRedirected, ct);
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(ended);
            }
            else
            {
                Print(ended);
            }
            return ended.State == TrainingJobStates.Succeeded ? 0 : 1;
        }));
        return command;
    }

    private static int Submitted(TrainingJob job)
    {
        AnsiConsole.MarkupLineInterpolated($"queued [bold]{job.Id}[/]: strata follows it at GET /api/training/jobs/{job.Id}");
        return 0;
    }

    /// <summary>Polls the job until it ends; Ctrl-C cancels it on the server and keeps following until it has ended.</summary>
    private static async Task<TrainingJob> FollowAsync(HttpClient http, TrainingJob job, bool showProgress, CancellationToken cancellationToken)
    {
        var cancelSent = false;
        async Task<TrainingJob> PollAsync(Action<TrainingJob>? update)
        {
            while (true)
            {
                if (cancellationToken.IsCancellationRequested && !cancelSent)
                {
                    cancelSent = true;
                    job = (await ModuleHttp.SendAsync<TrainingJob>(http, ModuleNames.Training,
                        () => new HttpRequestMessage(HttpMethod.Delete, RoutePath.Of(TrainingRoutes.Prefix, TrainingRoutes.Job, job.Id)), CancellationToken.None))!;
                }
                job = (await ModuleHttp.SendAsync<TrainingJob>(http, ModuleNames.Training,
                    () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(TrainingRoutes.Prefix, TrainingRoutes.Job, job.Id)), CancellationToken.None))!;
                update?.Invoke(job);
                if (TrainingJobStates.IsFinished(job.State))
                {
                    return job;
                }
                try
                {
                    await Task.Delay(PollInterval, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl-C: cancel the job on the next round, then follow it to its end.
                }
            }
        }

        if (!showProgress)
        {
            return await PollAsync(null);
        }
        return await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(job.Id), maxValue: 100);
                return await PollAsync(j =>
                {
                    task.Description = Markup.Escape($"{j.State}: {j.Stage}");
                    task.Value = j.Progress * 100;
                });
            });
    }

    private static void Print(TrainingJob job)
    {
        var table = new Table().AddColumns("job", job.Id);
        table.AddRow("state", job.State);
        if (job.Result is { } result)
        {
            table.AddRow("version", Markup.Escape($"{result.Model} v{result.Version}" + (result.Alias is null ? string.Empty : $" (@{result.Alias})")));
            table.AddRow("trainer", Markup.Escape(job.Request.Trainer));
            table.AddRow("rows (train / holdout)", string.Create(CultureInfo.InvariantCulture, $"{result.TrainRows} / {result.HoldoutRows}"));
            foreach (var (name, value) in result.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                table.AddRow(Markup.Escape(name), value.ToString("F4", CultureInfo.InvariantCulture));
            }
            table.AddRow("seconds", result.Seconds.ToString("F2", CultureInfo.InvariantCulture));
            table.AddRow("run", Markup.Escape(result.RunId ?? "-"));
        }
        if (job.Error is { } error)
        {
            table.AddRow("error", Markup.Escape(error));
        }
        AnsiConsole.Write(table);
    }
}
