using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Registry;

namespace Strata.Cli.Commands;

/// <summary><c>strata models ls|show|alias</c>: the model registry of a running Strata, over its HTTP API. Tables for
/// people, <c>--json</c> for machines; server errors print one line and exit 1.</summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "The model registry of a running Strata: models, versions, aliases");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Alias());
        return command;
    }

    private static Option<Uri> UrlOption() => CommonOptions.Url("the gateway or the registry service");

    private static Command List()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var command = new Command("ls", "Registered models: newest version and aliases") { url, json };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async registry =>
        {
            var models = await registry.ListModelsAsync(ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(models);
            }
            var table = new Table().AddColumns("model", "latest", "aliases", "created");
            foreach (var m in models)
            {
                table.AddRow(Markup.Escape(m.Name), m.LatestVersion.ToString(CultureInfo.InvariantCulture), Markup.Escape(Aliases(m.Aliases)),
                    m.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
            }
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var model = new Argument<string>("model") { Description = "The registered model" };
        var version = new Option<int?>("--version", "-v") { Description = "Show this version in full" };
        var alias = new Option<string?>("--alias", "-a") { Description = "Show the version this alias points at in full" };
        var wide = CommonOptions.Wide();
        var command = new Command("show", "A model's versions (metrics, lineage, aliases), or one version in full") { url, json, model, version, alias, wide };
        command.Validators.Add(r =>
        {
            if (r.GetValue(version) is not null && r.GetValue(alias) is not null)
            {
                r.AddError("--version and --alias cannot be used together");
            }
            if (r.GetValue(version) is < 1)
            {
                r.AddError("--version must be 1 or more");
            }
        });
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async registry =>
        {
            var name = parse.GetValue(model)!;
            if (parse.GetValue(version) is { } number || parse.GetValue(alias) is not null)
            {
                var target = parse.GetValue(alias) is { } a
                    ? await registry.GetVersionByAliasAsync(name, a, ct) ?? throw new ResourceNotFoundException("alias", $"{name}@{a}")
                    : await registry.GetVersionAsync(name, parse.GetValue(version)!.Value, ct)
                        ?? throw new ResourceNotFoundException("model version", $"{name}/{parse.GetValue(version)}");
                if (parse.GetValue(json))
                {
                    return CommonOptions.PrintJson(target);
                }
                PrintVersion(target);
                return 0;
            }
            var versions = await registry.ListVersionsAsync(name, ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(versions);
            }
            // The version and its aliases always; then what fits: when, the headline metrics, the lineage, the other
            // metrics (each metric a column of its own; `--version N` shows one version's as a two-column table).
            var metricKeys = CommonOptions.OrderMetrics(versions.SelectMany(v => v.Metrics.Keys));
            var table = new FittedTable().Column("version", right: true).Column("aliases", cut: true).Column("created", 1);
            for (var m = 0; m < metricKeys.Count; m++)
            {
                table.Column(metricKeys[m], m < 3 ? 2 : 10 + m, right: true);
            }
            table.Column("dataset", 3).Column("features", 4);
            foreach (var v in versions)
            {
                table.Row([v.Version.ToString(CultureInfo.InvariantCulture), v.Aliases.Count == 0 ? null : string.Join(", ", v.Aliases),
                    v.CreatedAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                    .. metricKeys.Select(k => v.Metrics.TryGetValue(k, out var value) ? value.ToString("0.####", CultureInfo.InvariantCulture) : null),
                    Short(v.DatasetVersion), v.FeatureView]);
            }
            table.Write(parse.GetValue(wide));
            return 0;
        }));
        return command;
    }

    private static Command Alias()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var model = new Argument<string>("model") { Description = "The registered model" };
        var alias = new Argument<string>("alias") { Description = "The alias (e.g. champion, challenger)" };
        var version = new Argument<int?>("version") { Description = "The version it points at from now on", Arity = ArgumentArity.ZeroOrOne };
        var delete = new Option<bool>("--delete") { Description = "Remove the alias (what serves it keeps its version until the alias points somewhere again)" };
        var command = new Command("alias", "Point an alias at a version (serving follows it), or remove it") { url, json, model, alias, version, delete };
        command.Validators.Add(r =>
        {
            // By its tokens: reading a value that does not parse ("one") would throw here instead of being reported.
            if (r.GetResult(version) is { Tokens.Count: > 0 } == r.GetValue(delete))
            {
                r.AddError("give a version, or --delete (not both)");
            }
        });
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async registry =>
        {
            var name = parse.GetValue(model)!;
            var aliasName = parse.GetValue(alias)!;
            if (parse.GetValue(delete))
            {
                await registry.DeleteAliasAsync(name, aliasName, ct);
                Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(new { model = name, alias = aliasName, deleted = true }, StrataJson.Options)
                    : $"{name}: {aliasName} removed");
                return 0;
            }
            var target = await registry.SetAliasAsync(name, aliasName, parse.GetValue(version)!.Value, ct);
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(target, StrataJson.Options)
                : $"{name}: {aliasName} -> version {target.Version}");
            return 0;
        }));
        return command;
    }

    private static void PrintVersion(ModelVersion v)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string key, string? value) => grid.AddRow(new Text(key), new Text(value ?? "-"));
        Row("model", v.Model);
        Row("version", v.Version.ToString(CultureInfo.InvariantCulture));
        Row("aliases", v.Aliases.Count == 0 ? null : string.Join(", ", v.Aliases));
        Row("created", v.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
        Row("format", v.Format);
        Row("artifact", $"{v.ArtifactSha256} ({v.ArtifactSize:N0} bytes)");
        Row("dataset", v.DatasetVersion);
        Row("feature view", v.FeatureView is null ? null : $"{v.FeatureView} (version {v.FeatureViewVersion})");
        Row("features", string.Join(", ", v.FeatureNames));
        Row("description", v.Description);
        AnsiConsole.Write(grid);
        var values = new Table().AddColumns("metric / param", "value");
        foreach (var (key, value) in v.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            values.AddRow(Markup.Escape(key), value.ToString("G6", CultureInfo.InvariantCulture));
        }
        foreach (var (key, value) in v.Params.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            values.AddRow(Markup.Escape(key), Markup.Escape(value));
        }
        AnsiConsole.Write(values);
    }

    private static string Aliases(IReadOnlyDictionary<string, int> aliases) =>
        aliases.Count == 0 ? "-" : string.Join(", ", aliases.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}=v{a.Value}"));

    private static string Metrics(IReadOnlyDictionary<string, double> metrics) =>
        string.Join(", ", metrics.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key} {m.Value.ToString("0.###", CultureInfo.InvariantCulture)}"));

    private static string Short(string? id) => id is null ? "-" : id.Length > 8 ? id[..8] : id;

    private static Task<int> RunAsync(Uri url, Func<HttpRegistryClient, Task<int>> action) =>
        CommonOptions.RunClientAsync(url, TimeSpan.FromMinutes(1), http => action(new HttpRegistryClient(http)));
}
