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
        var requestOptions = new TrainRequestOptions();
        var noWait = new Option<bool>("--no-wait") { Description = "Submit the job and print it, without following it" };
        var command = new Command("train", "Train a model as a job on a running Strata and follow its progress") { url, json, noWait };
        requestOptions.AddTo(command);
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var request = requestOptions.Request(parse);
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
            table.AddRow("trainer", WireNames.Of(job.Request.Trainer));
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
