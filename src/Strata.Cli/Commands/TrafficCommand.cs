using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Registry;
using Strata.Contracts.Serving;

namespace Strata.Cli.Commands;

/// <summary><c>strata traffic show|set|clear|history</c>: a model's traffic policy (header rules, a weighted split,
/// sticky assignment, a shadow) in the registry, and how serving applies it (requests per arm, the shadow's agreement).</summary>
public static class TrafficCommand
{
    public static Command Create()
    {
        var command = new Command("traffic", "A model's traffic policy: canary weights, header rules, sticky arms, a shadow");
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Set());
        command.Subcommands.Add(Clear());
        command.Subcommands.Add(History());
        return command;
    }

    private static Option<Uri> UrlOption() => CommonOptions.Url("the gateway");

    private static Argument<string> ModelArgument() => new("model") { Description = "The registered model" };

    private static Command Show()
    {
        var (url, json, model) = (UrlOption(), CommonOptions.Json(), ModelArgument());
        var command = new Command("show", "The policy in force and what serving did with it: requests per arm, the shadow's comparison") { url, json, model };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var name = parse.GetValue(model)!;
            var status = await new HttpServingClient(http).GetTrafficAsync(name, ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(status);
            }
            Console.WriteLine(status.PolicyVersion is { } v
                ? $"{name}: traffic policy v{v}: {status.Policy}"
                : $"{name}: no traffic policy in force (the default alias answers every request)");
            var total = status.Arms.Sum(a => a.Requests);
            var table = new Table().AddColumns("arm", "version", "weight", "requests", "share");
            foreach (var arm in status.Arms)
            {
                var weight = status.Policy?.Split?.FirstOrDefault(a => a.Target!.ToString() == arm.Arm)?.Weight;
                table.AddRow(Markup.Escape(arm.Arm), "v" + arm.Version, weight?.ToString(CultureInfo.InvariantCulture) ?? "-",
                    arm.Requests.ToString("N0", CultureInfo.InvariantCulture),
                    total == 0 ? "-" : (arm.Requests / (double)total).ToString("P1", CultureInfo.InvariantCulture));
            }
            AnsiConsole.Write(table);
            if (status.Shadow is { } s)
            {
                static string Ms(double? value) => value is { } ms ? ms.ToString("0.###", CultureInfo.InvariantCulture) + " ms" : "-";
                static string Number(double? value) => value?.ToString("G4", CultureInfo.InvariantCulture) ?? "-";
                var grid = new Grid().AddColumn().AddColumn();
                void Row(string key, string value) => grid.AddRow(new Text(key), new Text(value));
                Row("shadow", $"v{s.Version}");
                Row("mirrored", $"{s.Mirrored:N0} requests, {s.Rows:N0} rows compared; {s.Failed:N0} failed, {s.Dropped:N0} dropped");
                Row("agreement", s.Agreement?.ToString("P2", CultureInfo.InvariantCulture) ?? "-");
                Row("|delta| p50 / p90 / p99", $"{Number(s.AbsoluteDelta.P50)} / {Number(s.AbsoluteDelta.P90)} / {Number(s.AbsoluteDelta.P99)} (mean delta {Number(s.MeanDelta)})");
                Row("latency p50 / p99", $"primary {Ms(s.PrimaryLatencyMs.P50)} / {Ms(s.PrimaryLatencyMs.P99)}; shadow {Ms(s.ShadowLatencyMs.P50)} / {Ms(s.ShadowLatencyMs.P99)}");
                AnsiConsole.Write(grid);
            }
            return 0;
        }));
        return command;
    }

    private static Command Set()
    {
        var (url, json, model) = (UrlOption(), CommonOptions.Json(), ModelArgument());
        var split = new Option<string[]>("--split") { Description = "An arm and its weight: champion=90, v4=10 (repeat, or comma-separate)", AllowMultipleArgumentsPerToken = true };
        var rule = new Option<string[]>("--rule")
        {
            Description = "A header rule, tried in order: 'x-user-group=beta->challenger' (exact), 'x-group=beta*->v5' (prefix), 'x-canary->v5' (present)",
        };
        var sticky = new Option<string?>("--sticky") { Description = "Keep each user on one arm by this request field (an entity key such as user_id)" };
        var stickyHeader = new Option<string?>("--sticky-header") { Description = "Keep each caller on one arm by this header's value" };
        var shadow = new Option<string?>("--shadow") { Description = "Mirror requests to this version or alias (answers recorded, never returned): v5 or v5:10 for 10%" };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "The whole policy as JSON (the API's shape) instead of the options" };
        var command = new Command("set", "Set the model's traffic policy (a new version, announced to serving)") { url, json, model, split, rule, sticky, stickyHeader, shadow, file };
        command.Validators.Add(r =>
        {
            if (r.GetValue(file) is not null && (r.GetValue(split) is { Length: > 0 } || r.GetValue(rule) is { Length: > 0 } || r.GetValue(shadow) is not null
                || r.GetValue(sticky) is not null || r.GetValue(stickyHeader) is not null))
            {
                r.AddError("--file gives the whole policy: no other policy option with it");
            }
        });
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var policy = parse.GetValue(file) is { } f ? ReadFile(f) : new TrafficPolicy
            {
                Rules = parse.GetValue(rule) is { Length: > 0 } rules ? [.. rules.Select((text, i) => ParseRule(text, $"--rule[{i}]"))] : null,
                Split = parse.GetValue(split) is { Length: > 0 } arms ? [.. arms.SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(ParseArm)] : null,
                Sticky = parse.GetValue(sticky) is { } key ? new StickyAssignment { Key = key } : parse.GetValue(stickyHeader) is { } header ? new StickyAssignment { Header = header } : null,
                Shadow = parse.GetValue(shadow) is { } s ? ParseShadow(s) : null,
            };
            policy.Validate();
            var stored = await new HttpRegistryClient(http).SetTrafficPolicyAsync(parse.GetValue(model)!, policy, ct);
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(stored, StrataJson.Options) : $"{stored.Model}: traffic policy v{stored.Version}: {stored.Policy}");
            return 0;
        }));
        return command;
    }

    private static Command Clear()
    {
        var (url, json, model) = (UrlOption(), CommonOptions.Json(), ModelArgument());
        var command = new Command("clear", "Clear the model's traffic policy (a new version: the default alias answers every request)") { url, json, model };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var stored = await new HttpRegistryClient(http).SetTrafficPolicyAsync(parse.GetValue(model)!, null, ct);
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(stored, StrataJson.Options) : $"{stored.Model}: traffic policy v{stored.Version}: cleared");
            return 0;
        }));
        return command;
    }

    private static Command History()
    {
        var (url, json, model) = (UrlOption(), CommonOptions.Json(), ModelArgument());
        var command = new Command("history", "Every version of the model's traffic policy, newest first") { url, json, model };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            var history = await new HttpRegistryClient(http).GetTrafficHistoryAsync(parse.GetValue(model)!, ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(history);
            }
            var table = new FittedTable().Column("version", right: true).Column("set", 1).Column("policy", cut: true);
            foreach (var v in history)
            {
                table.Row(v.Version.ToString(CultureInfo.InvariantCulture), v.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    v.Policy?.ToString() ?? "(cleared)");
            }
            table.Write(wide: false);
            return 0;
        }));
        return command;
    }

    private static TrafficPolicy ReadFile(FileInfo file)
    {
        try
        {
            return JsonSerializer.Deserialize<TrafficPolicy>(File.ReadAllText(file.FullName), StrataJson.Options)
                ?? throw new InputValidationException("--file", "holds null, not a policy object");
        }
        catch (JsonException e)
        {
            throw new InputValidationException("--file", $"is not a traffic policy: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputValidationException("--file", e.Message);
        }
    }

    /// <summary><c>champion=90</c>, <c>v4=10</c>.</summary>
    private static TrafficArm ParseArm(string text)
    {
        var at = text.LastIndexOf('=');
        return at > 0 && int.TryParse(text.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var weight)
            ? new TrafficArm { Target = TrafficTarget.Parse(text[..at], "--split"), Weight = weight }
            : throw new InputValidationException("--split", $"'{text}' is not TARGET=WEIGHT (champion=90, v4=10)");
    }

    /// <summary><c>header=value-&gt;target</c> (exact), <c>header=value*-&gt;target</c> (prefix), <c>header-&gt;target</c> (present).</summary>
    private static TrafficRule ParseRule(string text, string field)
    {
        var arrow = text.LastIndexOf("->", StringComparison.Ordinal);
        if (arrow <= 0)
        {
            throw new InputValidationException(field, $"'{text}' is not HEADER=VALUE->TARGET, HEADER=PREFIX*->TARGET or HEADER->TARGET");
        }
        var target = TrafficTarget.Parse(text[(arrow + 2)..], field);
        var match = text[..arrow];
        var equals = match.IndexOf('=', StringComparison.Ordinal);
        if (equals < 0)
        {
            return new TrafficRule { Header = match, Present = true, Target = target };
        }
        var (header, value) = (match[..equals], match[(equals + 1)..]);
        return value.EndsWith('*')
            ? new TrafficRule { Header = header, Prefix = value[..^1], Target = target }
            : new TrafficRule { Header = header, Exact = value, Target = target };
    }

    /// <summary><c>v5</c> or <c>v5:10</c> (10% of requests).</summary>
    private static ShadowTarget ParseShadow(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return new ShadowTarget { Target = TrafficTarget.Parse(text, "--shadow") };
        }
        return double.TryParse(text.AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var percent)
            ? new ShadowTarget { Target = TrafficTarget.Parse(text[..colon], "--shadow"), Percent = percent }
            : throw new InputValidationException("--shadow", $"'{text}' is not TARGET or TARGET:PERCENT (v5, v5:10)");
    }
}
