using System.CommandLine;
using Spectre.Console;
using Strata.Hosting;
using Strata.Cli.Seed;
using Strata.Cli.Supervision;
using Strata.Contracts;
using Strata.Contracts.Data;
using Strata.Contracts.Registry;
using Strata.Contracts.Training;
using Strata.Contracts.Security;

namespace Strata.Cli.Commands;

/// <summary><c>strata up</c>: the whole platform on one port. Monolith (default): every module and the gateway in
/// this process. Microservices: a supervisor runs each module as <c>strata serve</c> behind the gateway.
/// On a fresh data directory, the seed example is trained and made champion so <c>/predict</c> works at once.</summary>
internal static class UpCommand
{
    public const string Monolith = "monolith";
    public const string Microservices = "microservices";

    /// <summary>The most processes one module may run as.</summary>
    public const int MaxReplicas = 16;

    public static Command Create()
    {
        var topology = new Option<string>("--topology", "-t")
        {
            Description = "monolith (one process) or microservices (one process per module plus the gateway)",
            DefaultValueFactory = _ => Monolith,
        };
        topology.AcceptOnlyFromAmong(Monolith, Microservices);
        var port = StrataCommand.PortOption(5000);
        var dataDir = StrataCommand.DataDirOption();
        var bind = StrataCommand.BindOption();
        var replicas = new Option<string[]>("--replicas")
        {
            Description = "microservices: run a stateless module as several processes behind the gateway, e.g. --replicas serving=3",
            AllowMultipleArgumentsPerToken = true,
        };
        replicas.Validators.Add(r =>
        {
            if (ParseReplicas(r.GetValueOrDefault<string[]>() ?? [], out var error) is null)
            {
                r.AddError(error!);
            }
        });
        var command = new Command("up", "Start Strata on 127.0.0.1:PORT with embedded defaults") { topology, port, dataDir, bind, replicas };
        command.Validators.Add(r =>
        {
            // The tokens, not GetValue: a topology that failed its own check (--topology mesh) must not throw here.
            var chosen = r.GetResult(topology) is { Implicit: false } given ? (given.Tokens.Count > 0 ? given.Tokens[0].Value : null) : Monolith;
            if (chosen == Monolith && r.GetResult(replicas) is { Tokens.Count: > 0 })
            {
                r.AddError("--replicas needs --topology microservices (the monolith is one process)");
            }
        });
        command.SetAction(async (parse, _) =>
        {
            using var shutdown = new ShutdownSignal();
            var ct = shutdown.Token;
            var dir = DataDirectory.Prepare(parse.GetValue(dataDir)!);
            var microservices = parse.GetValue(topology) == Microservices;
            // The supervisor holds the directory; its children each hold their module. The monolith holds both.
            using var held = DataDirectory.Lock(dir, microservices ? ["strata"] : ["strata", .. StrataModules.All.Select(m => m.Name)]);
            var address = StrataCommand.BindAddress(parse.GetValue(bind)!);
            var keyExisted = File.Exists(Path.Combine(dir, DataDirectory.ApiKeyFile));
            return microservices
                ? await Supervisor.RunAsync(parse.GetValue(port), address, dir, keyExisted, ParseReplicas(parse.GetValue(replicas) ?? [], out string? _)!, ct)
                : await RunMonolithAsync(parse.GetValue(port), address, dir, keyExisted, ct);
        });
        return command;
    }

    /// <summary><c>module=N</c> pairs: a module whose descriptor says it is replicable, N from 1 to <see cref="MaxReplicas"/>.</summary>
    internal static Dictionary<string, int>? ParseReplicas(IEnumerable<string> values, out string? error)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var value in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var parts = value.Split('=');
            var replicable = StrataModules.All.Where(m => m.Replicable).Select(m => m.Name).ToList();
            if (parts.Length != 2 || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count))
            {
                error = $"--replicas '{value}': expected MODULE=COUNT, e.g. serving=3";
                return null;
            }
            if (!replicable.Contains(parts[0]))
            {
                error = $"--replicas '{value}': {(StrataModules.All.Any(m => m.Name == parts[0]) ? $"{parts[0]} keeps state of its own and runs as one process" : $"there is no module '{parts[0]}'")}"
                    + $" (replicable: {string.Join(", ", replicable)})";
                return null;
            }
            if (count is < 1 or > MaxReplicas)
            {
                error = $"--replicas '{value}': the count must be between 1 and {MaxReplicas}";
                return null;
            }
            counts[parts[0]] = count;
        }
        error = null;
        return counts;
    }

    private static async Task<int> RunMonolithAsync(int port, System.Net.IPAddress bind, string dataDirectory, bool keyExisted, CancellationToken ct)
    {
        await using var app = await HostRunner.StartAsync(HostSettings.Monolith(port, dataDirectory) with { Bind = bind.ToString() }, ct);
        var address = HostRunner.Address(app);
        var seed = new SeedExample(app.Services.GetRequiredService<IDataClient>(), app.Services.GetRequiredService<ITrainingClient>(),
            app.Services.GetRequiredService<IRegistryClient>());
        await SeedAsync(seed, dataDirectory, ct);
        using (var http = new HttpClient { BaseAddress = address })
        {
            await Readiness.WaitAsync(http, TimeSpan.FromMinutes(2), ct);
        }
        DataDirectory.RecordAddress(dataDirectory, address);
        PrintServices([new ServiceRow("strata (all modules + gateway)", address, Environment.ProcessId, "ready")], address, dataDirectory, keyExisted);
        try
        {
            await app.WaitForShutdownAsync(ct);
        }
        finally
        {
            DataDirectory.ForgetAddress(dataDirectory);
        }
        return 0;
    }

    internal static async Task SeedAsync(SeedExample seed, string dataDirectory, CancellationToken ct)
    {
        TrainingResult? result = null;
        await AnsiConsole.Status().StartAsync("checking for a champion model", async status =>
        {
            result = await seed.EnsureAsync(dataDirectory, new Progress<string>(s => status.Status(s)), ct);
        });
        if (result is not null)
        {
            AnsiConsole.MarkupLineInterpolated(
                $"[green]seeded[/] {result.Model} v{result.Version} (champion): holdout AUC {result.Metrics["auc"]:F4}, accuracy {result.Metrics["accuracy"]:F4}, log-loss {result.Metrics["log_loss"]:F4} in {result.Seconds:F1}s");
        }
    }

    internal static void PrintServices(IEnumerable<ServiceRow> rows, Uri gateway, string dataDirectory, bool keyExisted)
    {
        var table = new Table().AddColumns("service", "url", "pid", "state");
        foreach (var row in rows)
        {
            table.AddRow(Markup.Escape(row.Name), Markup.Escape(row.Url.ToString()), row.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(row.State));
        }
        AnsiConsole.Write(table);
        var keyFile = Path.Combine(dataDirectory, DataDirectory.ApiKeyFile);
        if (!keyExisted && CommonOptions.ApiKey(null, keyFile) is { } key)
        {
            // The first admin key of a fresh data directory: shown this once (the server keeps only its hash); the CLI in
            // this folder reads it from the owner-only file, other clients need the export.
            AnsiConsole.MarkupLine("[yellow]first start: an admin API key was created. Shown this once; the CLI here reads it from[/] " + Markup.Escape(keyFile));
            Console.WriteLine($"export {SecurityRoutes.ApiKeyVariable}={key}");
        }
        AnsiConsole.MarkupLineInterpolated($"dashboard: {gateway} (sign in with an API key)");
        AnsiConsole.MarkupLineInterpolated($"try: curl -s -X POST {gateway}predict -H \"Authorization: Bearer ${SecurityRoutes.ApiKeyVariable}\" -H 'Content-Type: application/json' -d '{{\"age\": 35, \"income\": 50000}}'");
        AnsiConsole.MarkupLine("stop: Ctrl-C");
    }
}
