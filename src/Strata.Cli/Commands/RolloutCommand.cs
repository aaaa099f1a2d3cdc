using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Contracts.Registry;

namespace Strata.Cli.Commands;

/// <summary><c>strata rollout start|status|ls|pause|resume|abort</c>: move a candidate version to an alias step by step,
/// gated on its errors, latency and (optionally) its quality on labelled outcomes.</summary>
public static class RolloutCommand
{
    public static Command Create()
    {
        var command = new Command("rollout", "Progressive delivery: a candidate version takes traffic step by step, promoted or rolled back on what it measured");
        command.Subcommands.Add(Start());
        command.Subcommands.Add(Status());
        command.Subcommands.Add(List());
        foreach (var action in RolloutRoutes.Actions)
        {
            command.Subcommands.Add(Control(action));
        }
        return command;
    }

    private static Option<Uri> UrlOption() => CommonOptions.Url("the gateway or the registry service");

    private static Command Start()
    {
        var (url, json) = (UrlOption(), CommonOptions.Json());
        var model = new Argument<string>("model") { Description = "The registered model" };
        var candidate = new Argument<int>("candidate") { Description = "The candidate version" };
        var alias = new Option<string?>("--alias") { Description = "The alias promoted at the end; its version is the baseline (default champion)" };
        var steps = new Option<string?>("--steps") { Description = "Traffic percentages to the candidate, rising, ending at 100 (default 10,25,50,100)" };
        var interval = new Option<TimeSpan?>("--interval") { Description = "How long each step lasts before it is judged (default 00:05:00)" };
        var maxErrors = new Option<double?>("--max-error-increase") { Description = "Error rate the candidate may add to the baseline's (default 0.01)" };
        var maxLatency = new Option<double?>("--max-latency-ratio") { Description = "Multiple of the baseline's p99 latency the candidate may reach (default 2)" };
        var minRequests = new Option<int?>("--min-requests") { Description = "Requests the candidate must answer in a step before it is judged (default 20)" };
        var quality = new Option<string?>("--quality") { Description = "Gate on labelled outcomes: log_loss or squared_error, candidate not worse by more than --margin" };
        var margin = new Option<double?>("--margin") { Description = "Quality margin (default 0.02)" };
        var minOutcomes = new Option<int?>("--min-outcomes") { Description = "Labelled outcomes each side needs before quality is judged (default 100)" };
        var alpha = new Option<double?>("--alpha") { Description = "The chance of promoting a candidate worse than the margin, at most (default 0.05)" };
        var sticky = new Option<string?>("--sticky") { Description = "Keep each user on one side by this request field (an entity key)" };
        var command = new Command("start", "Start a rollout of a candidate version")
        {
            url, json, model, candidate, alias, steps, interval, maxErrors, maxLatency, minRequests, quality, margin, minOutcomes, alpha, sticky,
        };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var defaults = new RolloutGates();
            var spec = new RolloutSpec
            {
                Model = parse.GetValue(model),
                Candidate = parse.GetValue(candidate),
                Alias = parse.GetValue(alias),
                Steps = parse.GetValue(steps) is { } text ? ParseSteps(text) : null,
                Interval = parse.GetValue(interval),
                Gates = new RolloutGates
                {
                    MaxErrorRateIncrease = parse.GetValue(maxErrors) ?? defaults.MaxErrorRateIncrease,
                    MaxLatencyRatio = parse.GetValue(maxLatency) ?? defaults.MaxLatencyRatio,
                    MinRequests = parse.GetValue(minRequests) ?? defaults.MinRequests,
                    Quality = parse.GetValue(quality) is { } metric
                        ? new QualityGate
                        {
                            Metric = metric,
                            Margin = parse.GetValue(margin) ?? new QualityGate().Margin,
                            MinOutcomes = parse.GetValue(minOutcomes) ?? new QualityGate().MinOutcomes,
                            Alpha = parse.GetValue(alpha) ?? new QualityGate().Alpha,
                        }
                        : null,
                },
                Sticky = parse.GetValue(sticky) is { } key ? new StickyAssignment { Key = key } : null,
            };
            var started = await new HttpRolloutsClient(http).StartAsync(spec, ct);
            return Print(started, parse.GetValue(json));
        }));
        return command;
    }

    private static Command Status()
    {
        var (url, json) = (UrlOption(), CommonOptions.Json());
        var id = new Argument<string>("id") { Description = "The rollout" };
        var command = new Command("status", "A rollout: where it is and every step it took") { url, json, id };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var rollout = await new HttpRolloutsClient(http).GetAsync(parse.GetValue(id)!, ct)
                ?? throw new Contracts.Errors.ResourceNotFoundException("rollout", parse.GetValue(id)!);
            return Print(rollout, parse.GetValue(json));
        }));
        return command;
    }

    private static Command List()
    {
        var (url, json) = (UrlOption(), CommonOptions.Json());
        var model = new Option<string?>("--model") { Description = "Only this model's rollouts" };
        var command = new Command("ls", "Rollouts, newest first") { url, json, model };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var list = await new HttpRolloutsClient(http).ListAsync(parse.GetValue(model), ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(list);
            }
            var table = new FittedTable().Column("id").Column("model").Column("candidate", right: true).Column("status").Column("weight", right: true)
                .Column("started", 1).Column("reason", 2, cut: true);
            foreach (var r in list)
            {
                table.Row(r.Id, r.Model, "v" + r.Candidate.ToString(CultureInfo.InvariantCulture), r.Status, r.Weight.ToString(CultureInfo.InvariantCulture) + "%",
                    r.CreatedAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), r.Reason);
            }
            table.Write(wide: false);
            return 0;
        }));
        return command;
    }

    private static Command Control(string action)
    {
        var (url, json) = (UrlOption(), CommonOptions.Json());
        var id = new Argument<string>("id") { Description = "The rollout" };
        var command = new Command(action, action switch
        {
            "pause" => "Hold a rollout at its step (traffic stays as it is)",
            "resume" => "Resume a paused rollout (its step starts again)",
            _ => "Abort a rollout: every request back to the baseline",
        }) { url, json, id };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
            Print(await new HttpRolloutsClient(http).ControlAsync(parse.GetValue(id)!, action, ct), parse.GetValue(json))));
        return command;
    }

    private static int Print(Rollout rollout, bool json)
    {
        if (json)
        {
            return CommonOptions.PrintJson(rollout);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rollout {rollout.Id}: {rollout.Model} v{rollout.Candidate} against {rollout.Spec.Alias} (v{rollout.Baseline}): {rollout.Status}, step {rollout.Step + 1} of {rollout.Spec.Steps!.Count} ({rollout.Weight}%)"));
        var table = new Table().AddColumns("time", "event", "weight", "detail");
        foreach (var entry in rollout.History)
        {
            table.AddRow(entry.Time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), Markup.Escape(entry.Kind),
                entry.Weight.ToString(CultureInfo.InvariantCulture) + "%", Markup.Escape(entry.Detail));
        }
        AnsiConsole.Write(table);
        return 0;
    }

    private static int[] ParseSteps(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s =>
            int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new Contracts.Errors.InputValidationException("--steps", $"'{s}' is not a percentage"))];
}
