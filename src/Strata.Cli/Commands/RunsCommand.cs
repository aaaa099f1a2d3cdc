using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Contracts.Errors;
using Strata.Contracts.Tracking;

namespace Strata.Cli.Commands;

/// <summary><c>strata runs ls|compare</c>: tracked runs of a running Strata, over its MLflow-compatible API (so it works
/// against any MLflow tracking server too). Tables for people, <c>--json</c> for machines.</summary>
public static class RunsCommand
{
    public static Command Create()
    {
        var command = new Command("runs", "Tracked runs (MLflow-compatible tracking): list, search and compare");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Compare());
        return command;
    }

    private static Option<Uri> UrlOption() => CommonOptions.Url("the gateway or the registry service");

    private static Command List()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var experiment = new Option<string?>("--experiment", "-e") { Description = "Experiment name (default: every experiment's runs, newest first)" };
        var experimentId = new Option<string?>("--experiment-id") { Description = "Experiment id instead of a name" };
        var filter = new Option<string?>("--filter", "-f") { Description = "MLflow search filter, e.g. \"metrics.auc > 0.9 and params.trees = '100'\"" };
        var orderBy = new Option<string[]>("--order-by", "-o") { Description = "Sort keys, e.g. \"metrics.auc DESC\" (repeatable)", AllowMultipleArgumentsPerToken = true };
        var max = new Option<int>("--max", "-n") { Description = "At most this many runs", DefaultValueFactory = _ => 50 };
        var wide = CommonOptions.Wide();
        var command = new Command("ls", "Runs (of every experiment, or of one), newest first or as ordered, optionally filtered") { url, json, experiment, experimentId, filter, orderBy, max, wide };
        max.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 50_000)
            {
                r.AddError("--max must be between 1 and 50000");
            }
        });
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async client =>
        {
            // No experiment named: every experiment's runs (issue 24: `runs ls` said "no runs" right after the seed trained,
            // its run being in the seed's experiment, not in Default).
            IReadOnlyList<string> ids;
            var experiments = new Dictionary<string, string>(StringComparer.Ordinal);
            if (parse.GetValue(experimentId) is { } id)
            {
                ids = [id];
            }
            else if (parse.GetValue(experiment) is { } name)
            {
                ids = [(await client.GetExperimentByNameAsync(name, ct) ?? throw new ResourceNotFoundException("experiment", name)).ExperimentId];
            }
            else
            {
                foreach (var e in await client.ListExperimentsAsync(ct))
                {
                    experiments[e.ExperimentId] = e.Name;
                }
                ids = [.. experiments.Keys];
            }
            var runs = new List<Run>();
            string? token = null;
            do
            {
                var (page, next) = await client.SearchRunsAsync(ids, parse.GetValue(filter), parse.GetValue(orderBy) ?? [], Math.Min(1000, parse.GetValue(max) - runs.Count), token, ct);
                runs.AddRange(page);
                token = next;
            }
            while (token is not null && runs.Count < parse.GetValue(max));
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(runs);
            }
            // The run, its name and status always; then what fits the terminal: when it started, the headline metrics,
            // how long it took, its experiment, the other metrics, its parameter count (--wide: all of them).
            var metricKeys = CommonOptions.OrderMetrics(runs.SelectMany(r => r.Data.Metrics ?? []).Select(m => m.Key));
            var table = new FittedTable().Column("run").Column("name", cut: true).Column("status", 1).Column("started", 1);
            for (var m = 0; m < metricKeys.Count; m++)
            {
                table.Column(metricKeys[m], m < 2 ? 2 : 4 + m, right: true);
            }
            table.Column("duration", 3, right: true);
            if (experiments.Count > 0)
            {
                table.Column("experiment", 3);
            }
            table.Column("params", 1000, right: true);
            foreach (var run in runs)
            {
                var metrics = (run.Data.Metrics ?? []).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal);
                var cells = new List<string?> { run.Info.RunId[..Math.Min(8, run.Info.RunId.Length)], run.Info.RunName, run.Info.Status.Name(), Time(run.Info.StartTime) };
                cells.AddRange(metricKeys.Select(k => metrics.TryGetValue(k, out var v) ? Number(v) : null));
                cells.Add(run.Info.EndTime is { } end ? $"{(end - run.Info.StartTime) / 1000.0:0.#} s" : null);
                if (experiments.Count > 0)
                {
                    cells.Add(experiments.GetValueOrDefault(run.Info.ExperimentId, run.Info.ExperimentId));
                }
                cells.Add((run.Data.Params?.Count ?? 0).ToString(CultureInfo.InvariantCulture));
                table.Row([.. cells]);
            }
            table.Write(parse.GetValue(wide));
            if (runs.Count == 0)
            {
                Console.WriteLine("no runs");
            }
            return 0;
        }));
        return command;
    }

    private static Command Compare()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var runIds = new Argument<string[]>("run-ids") { Description = "Two or more run ids", Arity = new ArgumentArity(2, 20) };
        var all = new Option<bool>("--all") { Description = "Show params that are the same in every run too" };
        var command = new Command("compare", "Params and latest metrics of runs side by side; differing params marked") { url, json, runIds, all };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async client =>
        {
            var runs = new List<Run>();
            foreach (var id in parse.GetValue(runIds)!)
            {
                runs.Add(await client.GetRunAsync(id, ct));
            }
            var metricKeys = runs.SelectMany(r => r.Data.Metrics ?? []).Select(m => m.Key).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var paramKeys = runs.SelectMany(r => r.Data.Params ?? []).Select(p => p.Key).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            string? Param(Run run, string key) => run.Data.Params?.FirstOrDefault(p => p.Key == key)?.Value;
            double? Metric(Run run, string key) => run.Data.Metrics?.FirstOrDefault(m => m.Key == key)?.Value;
            var differing = paramKeys.Where(k => runs.Select(r => Param(r, k)).Distinct().Count() > 1).ToList();
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(new
                {
                    runs = runs.Select(r => new { run_id = r.Info.RunId, run_name = r.Info.RunName, status = r.Info.Status.Name() }),
                    @params = paramKeys.ToDictionary(k => k, k => runs.Select(r => Param(r, k)).ToList()),
                    metrics = metricKeys.ToDictionary(k => k, k => runs.Select(r => Metric(r, k)).ToList()),
                    differing_params = differing,
                });
            }
            var table = new Table().AddColumn("");
            foreach (var run in runs)
            {
                table.AddColumn(new TableColumn($"{Markup.Escape(run.Info.RunName)}\n[grey]{run.Info.RunId[..Math.Min(8, run.Info.RunId.Length)]}[/]").RightAligned());
            }
            foreach (var key in paramKeys.Where(k => parse.GetValue(all) || differing.Contains(k)))
            {
                var marker = differing.Contains(key) ? "[yellow]*[/] " : "  ";
                table.AddRow([$"{marker}param {Markup.Escape(key)}", .. runs.Select(r => Markup.Escape(Param(r, key) ?? "-"))]);
            }
            foreach (var key in metricKeys)
            {
                var values = runs.Select(r => Metric(r, key)).ToList();
                var best = values.Where(v => v is not null).DefaultIfEmpty().Max();
                table.AddRow([$"  metric {Markup.Escape(key)}", .. values.Select(v => v is null ? "-" : v == best && values.Count(x => x is not null) > 1 ? $"[bold]{Number(v.Value)}[/]" : Number(v.Value))]);
            }
            AnsiConsole.Write(table);
            Console.WriteLine(differing.Count == 0 ? "params: identical" : $"params that differ: {string.Join(", ", differing)} (marked *; --all shows every param)");
            return 0;
        }));
        return command;
    }

    private static string Number(double value) => double.IsNaN(value) ? "NaN" : value.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Time(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static Task<int> RunAsync(Uri url, Func<MlflowClient, Task<int>> action) =>
        CommonOptions.RunClientAsync(url, TimeSpan.FromMinutes(1), http => action(new MlflowClient(http, TimeProvider.System)));
}
