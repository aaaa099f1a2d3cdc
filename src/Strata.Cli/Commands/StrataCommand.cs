using System.CommandLine;
using Strata.Contracts;
using Strata.Hosting;

namespace Strata.Cli.Commands;

/// <summary>The <c>strata</c> command line: <c>up</c> (a whole platform in one topology) and <c>serve</c> (one module,
/// as an orchestrator runs it). Errors print one line and exit non-zero: 2 for usage, 1 for a failed start.</summary>
public static class StrataCommand
{
    public static async Task<int> InvokeAsync(string[] args)
    {
        var root = Build();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // The most specific error first (an unknown token says more than "required command was not provided").
            var error = parse.Errors.OrderBy(e => e.Message.StartsWith("Required command", StringComparison.Ordinal)).First();
            await Console.Error.WriteLineAsync($"strata: {System.Text.RegularExpressions.Regex.Replace(error.Message, @"\s+", " ").Trim()} (see 'strata --help')");
            return 2;
        }
        try
        {
            // Signals are handled by ShutdownSignal (see there), not by a fixed termination timeout.
            return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
        }
        catch (StartupException e)
        {
            await Console.Error.WriteLineAsync($"strata: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("strata: interrupted before start completed");
            return 130;
        }
    }

    public static RootCommand Build()
    {
        var root = new RootCommand("Strata: an ML platform for .NET (data, features, training, registry, serving, gateway).");
        root.Subcommands.Add(UpCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(FeaturesCommand.Create());
        root.Subcommands.Add(EventsCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(TrafficCommand.Create());
        root.Subcommands.Add(RolloutCommand.Create());
        root.Subcommands.Add(ExperimentsCommand.Create());
        root.Subcommands.Add(MonitorCommand.Create());
        root.Subcommands.Add(RunsCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(CertsCommand.Create());
        return root;
    }

    internal static Option<int> PortOption(int defaultPort)
    {
        var port = new Option<int>("--port", "-p")
        {
            Description = "TCP port to listen on (127.0.0.1); 0 picks a free one",
            DefaultValueFactory = _ => defaultPort,
        };
        port.Validators.Add(r =>
        {
            // Unparsable tokens are reported by the parser itself; only range-check what parsed.
            if (r.Tokens.Count == 1 && int.TryParse(r.Tokens[0].Value, System.Globalization.CultureInfo.InvariantCulture, out var value)
                && value is < 0 or > 65535)
            {
                r.AddError($"--port must be between 0 and 65535, got {value}");
            }
        });
        return port;
    }

    internal static Option<string> BindOption() => new("--bind", "-b")
    {
        Description = "Address to listen on: 127.0.0.1 (default, this machine only); 0.0.0.0 or an interface's address exposes Strata to the network",
        DefaultValueFactory = _ => "127.0.0.1",
        Validators =
        {
            r =>
            {
                if (r.Tokens.Count == 1 && !System.Net.IPAddress.TryParse(r.Tokens[0].Value, out _))
                {
                    r.AddError($"--bind must be an IP address, got '{r.Tokens[0].Value}'");
                }
            },
        },
    };

    /// <summary>The parsed <c>--bind</c>; listening beyond loopback without TLS is said at start.</summary>
    internal static System.Net.IPAddress BindAddress(string text)
    {
        var address = System.Net.IPAddress.Parse(text);
        if (!System.Net.IPAddress.IsLoopback(address))
        {
            Console.Error.WriteLine($"strata: warning: listening on {address} without TLS: API keys and data cross the network in clear text; put a TLS-terminating proxy in front or keep the default 127.0.0.1");
        }
        return address;
    }

    internal static Option<string> DataDirOption() => new("--data-dir", "-d")
    {
        Description = "Folder for embedded state (datasets, registry, artifacts)",
        DefaultValueFactory = _ => DataDirectory.Default,
    };

    internal static Option<string> ModuleOption()
    {
        var module = new Option<string>("--module", "-m")
        {
            Description = $"The module to run: {string.Join(", ", HostSettings.ServeNames(StrataModules.All))}",
            Required = true,
        };
        module.AcceptOnlyFromAmong([.. HostSettings.ServeNames(StrataModules.All)]);
        return module;
    }
}
