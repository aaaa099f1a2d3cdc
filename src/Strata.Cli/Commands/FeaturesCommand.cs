using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Strata.Contracts;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Contracts.Http;
using Strata.Features.Definitions;
using System.Net.Http.Json;

namespace Strata.Cli.Commands;

/// <summary><c>strata features ls|historical|materialize|plan|apply|export</c>: the feature store of a running Strata, over its HTTP API.
/// Tables for people, <c>--json</c> for machines; server errors print one line and exit 1.</summary>
public static class FeaturesCommand
{
    public static Command Create()
    {
        var command = new Command("features", "Work with the feature store of a running Strata (definitions, point-in-time retrieval, materialisation)");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Historical());
        command.Subcommands.Add(Materialize());
        command.Subcommands.Add(PlanOrApply(apply: false));
        command.Subcommands.Add(PlanOrApply(apply: true));
        command.Subcommands.Add(Export());
        return command;
    }

    private static Option<Uri> UrlOption() => CommonOptions.Url("the gateway or the features service");

    private static Option<bool> JsonOption() => CommonOptions.Json();

    /// <summary>A time to live as a person says it: 30d, 2d 12h, 6h, 15m.</summary>
    private static string Ttl(TimeSpan ttl) =>
        string.Join(" ", new[] { (ttl.Days, "d"), (ttl.Hours, "h"), (ttl.Minutes, "m"), (ttl.Seconds, "s") }.Where(p => p.Item1 > 0).Select(p => $"{p.Item1}{p.Item2}")) is { Length: > 0 } text ? text : "0s";

    private static Command List()
    {
        var url = UrlOption();
        var json = JsonOption();
        var wide = CommonOptions.Wide();
        var command = new Command("ls", "List feature views and feature services") { url, json, wide };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async (features, _) =>
        {
            var views = await features.ListViewsAsync(ct);
            var services = await features.ListFeatureServicesAsync(ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { views, services }, StrataJson.Options));
                return 0;
            }
            var table = new FittedTable().Column("view").Column("kind").Column("entity").Column("features", right: true).Column("source", 1, cut: true).Column("ttl", 2);
            foreach (var v in views)
            {
                table.Row(v.Name, v.Kind, v.Entity, v.Features.Count.ToString(CultureInfo.InvariantCulture), v.Source ?? string.Join(", ", v.Sources ?? []),
                    v.TtlSeconds is { } ttl ? Ttl(TimeSpan.FromSeconds(ttl)) : null);
            }
            table.Write(parse.GetValue(wide));
            var serviceTable = new FittedTable().Column("feature service").Column("features", right: true).Column("views", cut: true);
            foreach (var s in services)
            {
                serviceTable.Row(s.Name, s.FeatureRefs.Count.ToString(CultureInfo.InvariantCulture), string.Join(", ", s.Projections.Select(p => p.View)));
            }
            serviceTable.Write(parse.GetValue(wide));
            return 0;
        }));
        return command;
    }

    private static Command Historical()
    {
        var url = UrlOption();
        var json = JsonOption();
        var entities = new Option<FileInfo?>("--entities", "-e") { Description = "CSV of entity rows: join keys, event_timestamp, any other columns (labels)" };
        var dataset = new Option<string?>("--dataset") { Description = "A dataset version id holding the entity rows" };
        var featureList = new Option<string[]>("--features", "-f") { Description = "Feature references view:feature (or view), comma-separated or repeated", AllowMultipleArgumentsPerToken = true };
        var service = new Option<string?>("--feature-service", "-s") { Description = "A feature service instead of --features" };
        var full = new Option<bool>("--full-feature-names") { Description = "Name columns view__feature" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the result as a new dataset version with this name (required past the inline limit)" };
        var command = new Command("historical", "Point-in-time correct features for entity rows (training data)")
        {
            url, entities, dataset, featureList, service, full, output, json,
        };
        command.Validators.Add(r =>
        {
            if ((r.GetValue(entities) is null) == (r.GetValue(dataset) is null))
            {
                r.AddError("give exactly one of --entities FILE.csv or --dataset ID");
            }
            if ((r.GetValue(featureList) is not { Length: > 0 }) == (r.GetValue(service) is null))
            {
                r.AddError("give exactly one of --features or --feature-service");
            }
        });
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async (features, data) =>
        {
            var datasetId = parse.GetValue(dataset);
            HistoricalFeaturesResponse result = null!;
            await WithStatusAsync(parse.GetValue(json), "retrieving point-in-time features", async status =>
            {
                if (parse.GetValue(entities) is { } file)
                {
                    if (!file.Exists)
                    {
                        throw new InputValidationException("--entities", $"{file.FullName} does not exist");
                    }
                    status($"uploading entity rows from {file.Name}");
                    await using var stream = file.OpenRead();
                    datasetId = (await data.IngestCsvAsync(Path.GetFileNameWithoutExtension(file.Name) + "-entities", stream, CleaningRules.None, ct)).Id;
                    status("retrieving point-in-time features");
                }
                var refs = parse.GetValue(featureList)?.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
                result = await features.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest(EntityDatasetId: datasetId,
                    Features: refs is { Count: > 0 } ? refs : null, FeatureService: parse.GetValue(service), FullFeatureNames: parse.GetValue(full),
                    OutputDatasetName: parse.GetValue(output)), ct);
            });
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(result, StrataJson.Options));
                return 0;
            }
            if (result.Dataset is { } written)
            {
                AnsiConsole.MarkupLineInterpolated($"wrote dataset [bold]{written.Name}[/] version {written.Id}: {result.Rows} rows x {result.Columns.Count} columns in {result.ElapsedSeconds:0.00} s");
                return 0;
            }
            const int shown = 20;
            var table = new Table();
            foreach (var column in result.Columns)
            {
                table.AddColumn(Markup.Escape(column));
            }
            for (var r = 0; r < Math.Min(shown, result.Rows); r++)
            {
                table.AddRow([.. result.Columns.Select(c => Markup.Escape(Format(result.Data![c][r])))]);
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"{result.Rows} rows in {result.ElapsedSeconds:0.000} s{(result.Rows > shown ? $" (first {shown} shown; --json or --output for all)" : string.Empty)}");
            return 0;
        }));
        return command;
    }

    private static Command Materialize()
    {
        var url = UrlOption();
        var json = JsonOption();
        var start = new Option<string?>("--start") { Description = "Start of the event-time window (RFC 3339); omit with --incremental" };
        var end = new Option<string?>("--end") { Description = "End of the window (RFC 3339); default now" };
        var incremental = new Option<bool>("--incremental") { Description = "From where the last materialisation of each view ended" };
        var views = new Option<string[]>("--views") { Description = "Feature views (default: all stored and aggregate views)", AllowMultipleArgumentsPerToken = true };
        var command = new Command("materialize", "Copy the latest feature values from the offline to the online store") { url, start, end, incremental, views, json };
        command.Validators.Add(r =>
        {
            if ((r.GetValue(start) is null) != r.GetValue(incremental))
            {
                r.AddError("give --start, or --incremental (not both)");
            }
        });
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async (features, _) =>
        {
            var endTs = parse.GetValue(end) ?? TimeProvider.System.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
            var names = parse.GetValue(views)?.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            MaterializeResult result = null!;
            await WithStatusAsync(parse.GetValue(json), "materialising", async _ =>
            {
                result = parse.GetValue(incremental)
                    ? await features.MaterializeIncrementalAsync(new MaterializeIncrementalRequest(endTs, names), ct)
                    : await features.MaterializeAsync(new MaterializeRequest(parse.GetValue(start), endTs, names), ct);
            });
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(result, StrataJson.Options));
                return 0;
            }
            var table = new Table().AddColumns("view", "from", "to", "rows", "rows/s");
            foreach (var v in result.Views)
            {
                table.AddRow(v.FeatureView, v.StartTs, v.EndTs, v.Rows.ToString("N0", CultureInfo.InvariantCulture), v.RowsPerSecond.ToString("N0", CultureInfo.InvariantCulture));
            }
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    /// <summary><c>strata features plan [PATH]</c> and <c>apply [PATH]</c>: a definitions repository (a file, or a folder of
    /// YAML/JSON files) against what the server has applied.</summary>
    private static Command PlanOrApply(bool apply)
    {
        var url = UrlOption();
        var json = JsonOption();
        var path = new Argument<string>("path") { Description = "A definitions file, or a folder of .yaml/.yml/.json files", DefaultValueFactory = _ => "." };
        var force = new Option<bool>("--force") { Description = "Apply even when a change breaks a registered model version" };
        var description = new Option<string?>("--description", "-m") { Description = "Kept with the applied version" };
        var command = apply
            ? new Command("apply", "Apply a definitions repository as the next version (all or nothing)") { path, url, force, description, json }
            : new Command("plan", "Show what applying a definitions repository would add, change and remove") { path, url, json };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(5), async http =>
        {
            IReadOnlyList<DefinitionFile> files;
            try
            {
                files = DefinitionFiles.Load(Path.GetFullPath(parse.GetValue(path)!));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                await Console.Error.WriteLineAsync($"strata: {e.Message}");
                return 1;
            }
            if (files.Count == 0)
            {
                await Console.Error.WriteLineAsync($"strata: no {string.Join(", ", DefinitionFiles.Extensions)} files under {parse.GetValue(path)}");
                return 1;
            }
            var body = new ApplyDefinitionsRequest([.. files.Select(f => new DefinitionFileContent(f.Name, f.Content))],
                Force: apply && parse.GetValue(force), Description: apply ? parse.GetValue(description) : null);
            var route = RoutePath.Of(FeaturesRoutes.Prefix, apply ? FeaturesRoutes.Apply : FeaturesRoutes.Plan);
            using var response = await ModuleHttp.SendRawAsync(http, ModuleNames.Features,
                () => new HttpRequestMessage(HttpMethod.Post, route) { Content = JsonContent.Create(body, options: StrataJson.Options) }, ct);
            if (response.StatusCode == System.Net.HttpStatusCode.BadRequest
                && await response.Content.ReadFromJsonAsync<JsonElement>(ct) is { ValueKind: JsonValueKind.Object } problem
                && problem.TryGetProperty("errors", out var errors))
            {
                foreach (var error in errors.EnumerateArray())
                {
                    var where = string.Join(": ", ErrorParts.Select(k => error.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null).Where(p => p is not null));
                    await Console.Error.WriteLineAsync($"{where}: {error.GetProperty("reason").GetString()}");
                }
                await Console.Error.WriteLineAsync($"strata: {errors.GetArrayLength()} error(s); nothing was applied");
                return 1;
            }
            await ModuleHttp.EnsureSuccessAsync(response, ModuleNames.Features, ct);
            var result = (await response.Content.ReadFromJsonAsync<DefinitionsPlan>(StrataJson.Options, ct))!;
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(result);
            }
            PrintPlan(result, files.Count, apply);
            return 0;
        }));
        return command;
    }

    private static readonly string[] ErrorParts = ["file", "definition", "field"];

    private static void PrintPlan(DefinitionsPlan plan, int files, bool apply)
    {
        if (plan.Changes.Count == 0)
        {
            AnsiConsole.MarkupLineInterpolated($"{files} file(s): no changes; version {plan.CurrentVersion} stays in force");
            return;
        }
        var table = new Table().AddColumns("change", "kind", "name", "breaks");
        foreach (var c in plan.Changes)
        {
            var colour = c.Change switch { "added" => "green", "removed" => "red", _ => "yellow" };
            var breaks = !c.Breaking ? "-" : c.Models is { Count: > 0 } models ? string.Join(", ", models) : "no registered model";
            table.AddRow($"[{colour}]{c.Change}[/]", c.Kind, Markup.Escape(c.Name), Markup.Escape(breaks));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated(apply
            ? (FormattableString)$"applied version {plan.Version} ({plan.Changes.Count} changes; was {plan.CurrentVersion})"
            : $"{plan.Changes.Count} changes against version {plan.CurrentVersion}; `strata features apply` makes them version {plan.Version}");
        foreach (var blocked in plan.Blocked ?? [])
        {
            AnsiConsole.MarkupLineInterpolated($"[red]breaks[/] {blocked}{(apply ? " (forced)" : "; apply refuses it unless --force")}");
        }
    }

    /// <summary><c>strata features export [-o FILE]</c>: the definitions in force, in the form apply reads.</summary>
    private static Command Export()
    {
        var url = UrlOption();
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write to this file instead of standard output" };
        var command = new Command("export", "Print the definitions in force (apply them again: no changes)") { url, output };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(1), async http =>
        {
            using var response = await ModuleHttp.SendRawAsync(http, ModuleNames.Features,
                () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(FeaturesRoutes.Prefix, FeaturesRoutes.Definitions)), ct);
            await ModuleHttp.EnsureSuccessAsync(response, ModuleNames.Features, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (parse.GetValue(output) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, text, ct);
                await Console.Error.WriteLineAsync($"wrote {file.FullName}");
                return 0;
            }
            Console.WriteLine(text);
            return 0;
        }));
        return command;
    }

    /// <summary>A spinner for people; nothing when the output is JSON for a machine.</summary>
    private static async Task WithStatusAsync(bool quiet, string text, Func<Action<string>, Task> work)
    {
        if (quiet)
        {
            await work(_ => { });
            return;
        }
        await AnsiConsole.Status().StartAsync(text, context => work(message => context.Status(message)));
    }

    private static string Format(object? value) => value switch
    {
        null => "null",
        JsonElement { ValueKind: JsonValueKind.String } s => s.GetString() ?? string.Empty,
        JsonElement e => e.GetRawText(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>Runs an action against the HTTP clients; a problem answer or an unreachable server is one line, exit 1.</summary>
    private static Task<int> RunAsync(Uri url, Func<IFeaturesClient, IDataClient, Task<int>> action) =>
        CommonOptions.RunClientAsync(url, TimeSpan.FromMinutes(30), http => action(new HttpFeaturesClient(http), new HttpDataClient(http)));
}
