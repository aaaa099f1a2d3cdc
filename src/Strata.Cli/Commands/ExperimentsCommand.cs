using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Contracts.Errors;
using Strata.Contracts.Registry;

namespace Strata.Cli.Commands;

/// <summary><c>strata experiments start|show|ls|stop</c>: A/B tests of a model's versions with sequential statistics.</summary>
public static class ExperimentsCommand
{
    public static Command Create()
    {
        var command = new Command("experiments", "A/B experiments: arms, sticky assignment, outcomes, always-valid p-values, the sample-ratio check");
        command.Subcommands.Add(Start());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Stop());
        return command;
    }

    private static Option<Uri> UrlOption() => CommonOptions.Url("the gateway or the registry service");

    private static Command Start()
    {
        var (url, json) = (UrlOption(), CommonOptions.Json());
        var model = new Argument<string>("model") { Description = "The registered model" };
        var arms = new Option<string[]>("--arm") { Description = "NAME=TARGET:WEIGHT, the control first: control=champion:50 treatment=v4:50", AllowMultipleArgumentsPerToken = true, Required = true };
        var sticky = new Option<string>("--sticky") { Description = "The request field each user is assigned by (an entity key such as user_id)", Required = true };
        var metric = new Option<string?>("--metric") { Description = "label_mean (conversion per exposure, default), value_mean or log_loss" };
        var name = new Option<string?>("--name") { Description = "A name for people" };
        var command = new Command("start", "Start an experiment") { url, json, model, arms, sticky, metric, name };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var spec = new ExperimentSpec
            {
                Model = parse.GetValue(model),
                Name = parse.GetValue(name),
                Arms = [.. parse.GetValue(arms)!.Select(ParseArm)],
                Sticky = new StickyAssignment { Key = parse.GetValue(sticky) },
                Metric = parse.GetValue(metric) ?? ExperimentSpec.LabelMean,
            };
            var started = await new HttpExperimentsClient(http).StartAsync(spec, ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(started);
            }
            Console.WriteLine($"experiment {started.Id} ({started.Spec.Name}): {string.Join(", ", started.ArmVersions.Select(a => $"{a.Key} = v{a.Value}"))}");
            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var (url, json) = (UrlOption(), CommonOptions.Json());
        var id = new Argument<string>("id") { Description = "The experiment" };
        var command = new Command("show", "An experiment's results per arm") { url, json, id };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var results = await new HttpExperimentsClient(http).GetAsync(parse.GetValue(id)!, ct) ?? throw new ResourceNotFoundException("experiment", parse.GetValue(id)!);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(results);
            }
            var e = results.Experiment;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"experiment {e.Id} ({e.Spec.Name}) on {e.Model}: {e.Status}, {e.Spec.Metric}, alpha {e.Spec.Alpha}, as of {results.AsOf:yyyy-MM-dd HH:mm:ss}"));
            static string N(double? v) => v?.ToString("0.####", CultureInfo.InvariantCulture) ?? "-";
            var table = new Table().AddColumns("arm", "version", "weight", "exposures", "outcomes", "mean [95%]", "vs control [always valid]", "p", "");
            foreach (var a in results.Arms)
            {
                table.AddRow(Markup.Escape(a.Arm), "v" + a.Version.ToString(CultureInfo.InvariantCulture), a.Weight.ToString(CultureInfo.InvariantCulture),
                    a.Exposures.ToString("N0", CultureInfo.InvariantCulture), a.Outcomes.ToString("N0", CultureInfo.InvariantCulture),
                    $"{N(a.Mean)} [{N(a.Low)}, {N(a.High)}]", a.Difference is null ? "control" : $"{N(a.Difference)} [{N(a.DifferenceLow)}, {N(a.DifferenceHigh)}]",
                    N(a.PValue), a.Significant ? "significant" : "");
            }
            AnsiConsole.Write(table);
            var srm = results.SampleRatio;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sample ratio: chi-square {srm.ChiSquare:0.##} ({srm.DegreesOfFreedom} df), p {srm.PValue:0.####}{(srm.Mismatch ? " -- MISMATCH: assignment or logging is broken, do not trust these results" : "")}"));
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var (url, json) = (UrlOption(), CommonOptions.Json());
        var model = new Option<string?>("--model") { Description = "Only this model's experiments" };
        var command = new Command("ls", "Experiments, newest first") { url, json, model };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var list = await new HttpExperimentsClient(http).ListAsync(parse.GetValue(model), ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(list);
            }
            var table = new FittedTable().Column("id").Column("model").Column("status").Column("arms", 2, cut: true).Column("started", 1);
            foreach (var e in list)
            {
                table.Row(e.Id, e.Model, e.Status, string.Join(", ", e.ArmVersions.Select(a => $"{a.Key}=v{a.Value}")),
                    e.StartedAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture));
            }
            table.Write(wide: false);
            return 0;
        }));
        return command;
    }

    private static Command Stop()
    {
        var (url, json) = (UrlOption(), CommonOptions.Json());
        var id = new Argument<string>("id") { Description = "The experiment" };
        var command = new Command("stop", "Stop assigning (the traffic policy is cleared); results stay, frozen at the stop") { url, json, id };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var stopped = await new HttpExperimentsClient(http).StopAsync(parse.GetValue(id)!, ct);
            return parse.GetValue(json) ? CommonOptions.PrintJson(stopped) : Print($"experiment {stopped.Id}: stopped");
        }));
        return command;
    }

    private static int Print(string line)
    {
        Console.WriteLine(line);
        return 0;
    }

    /// <summary><c>control=champion:50</c>.</summary>
    private static ExperimentArm ParseArm(string text)
    {
        var (equals, colon) = (text.IndexOf('=', StringComparison.Ordinal), text.LastIndexOf(':'));
        return equals > 0 && colon > equals && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var weight)
            ? new ExperimentArm { Name = text[..equals], Target = TrafficTarget.Parse(text[(equals + 1)..colon], "--arm"), Weight = weight }
            : throw new InputValidationException("--arm", $"'{text}' is not NAME=TARGET:WEIGHT (control=champion:50)");
    }
}
