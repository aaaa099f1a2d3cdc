using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Strata.Contracts;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;

namespace Strata.Cli.Commands;

/// <summary><c>strata features ls|historical|materialize</c>: the feature store of a running Strata, over its HTTP API.
/// Tables for people, <c>--json</c> for machines; server errors print one line and exit 1.</summary>
public static class FeaturesCommand
{
    public static Command Create()
    {
        var command = new Command("features", "Work with the feature store of a running Strata (definitions, point-in-time retrieval, materialisation)");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Historical());
        command.Subcommands.Add(Materialize());
        return command;
    }

    private static Option<Uri> UrlOption() => CommonOptions.Url("the gateway or the features service");

    private static Option<bool> JsonOption() => CommonOptions.Json();

    private static Command List()
    {
        var url = UrlOption();
        var json = JsonOption();
        var command = new Command("ls", "List feature views and feature services") { url, json };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async (features, _) =>
        {
            var views = await features.ListViewsAsync(ct);
            var services = await features.ListFeatureServicesAsync(ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { views, services }, StrataJson.Options));
                return 0;
            }
            var table = new Table().AddColumns("view", "kind", "entity", "features", "ttl", "source");
            foreach (var v in views)
            {
                table.AddRow(Markup.Escape(v.Name), v.Kind, v.Entity ?? "-", v.Features.Count.ToString(CultureInfo.InvariantCulture),
                    v.TtlSeconds is { } ttl ? TimeSpan.FromSeconds(ttl).ToString() : "-", Markup.Escape(v.Source ?? string.Join(", ", v.Sources ?? [])));
            }
            AnsiConsole.Write(table);
            var serviceTable = new Table().AddColumns("feature service", "features", "views");
            foreach (var s in services)
            {
                serviceTable.AddRow(Markup.Escape(s.Name), s.FeatureRefs.Count.ToString(CultureInfo.InvariantCulture), Markup.Escape(string.Join(", ", s.Projections.Select(p => p.View))));
            }
            AnsiConsole.Write(serviceTable);
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
