using System.CommandLine;
using Strata.Hosting;

namespace Strata.Cli.Commands;

/// <summary><c>strata serve --module NAME</c>: one module in its own process, as an orchestrator (or the
/// supervisor of <c>strata up --topology microservices</c>) runs it. Other modules are reached at the URLs in
/// <c>Strata:Services:&lt;module&gt;</c> (environment <c>Strata__Services__&lt;module&gt;</c>).</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var module = StrataCommand.ModuleOption();
        var port = StrataCommand.PortOption(5000);
        var dataDir = StrataCommand.DataDirOption();
        var bind = StrataCommand.BindOption();
        var replica = new Option<int>("--replica")
        {
            Description = "Which replica of a replicable module this process is (strata up --replicas numbers them 1, 2, ...)",
            DefaultValueFactory = _ => 1,
        };
        replica.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > UpCommand.MaxReplicas)
            {
                r.AddError($"--replica must be between 1 and {UpCommand.MaxReplicas}");
            }
        });
        var command = new Command("serve", "Run one module (events, security, data, features, registry, training, serving) or the gateway") { module, port, dataDir, bind, replica };
        command.Validators.Add(r =>
        {
            if (r.GetValue(replica) > 1 && r.GetValue(module) is { } name && !StrataModules.All.Any(m => m.Name == name && m.Replicable))
            {
                r.AddError($"--replica: {name} keeps state of its own and runs as one process");
            }
        });
        command.SetAction(async (parse, _) =>
        {
            using var shutdown = new ShutdownSignal();
            var ct = shutdown.Token;
            var settings = new HostSettings([parse.GetValue(module)!], parse.GetValue(port), DataDirectory.Prepare(parse.GetValue(dataDir)!))
            {
                ListenDescriptor = Supervision.InheritableListener.TakeInherited(),
                Bind = StrataCommand.BindAddress(parse.GetValue(bind)!).ToString(),
                Replica = parse.GetValue(replica),
            };
            using var held = DataDirectory.Lock(settings.DataDirectory, Strata.Gateway.ProxiedModule.ReplicaName(settings.Modules[0], settings.Replica));
            await using var app = await HostRunner.StartAsync(settings, ct);
            var tls = settings.Modules[0] != HostSettings.Gateway && app.Services.GetService<Strata.ServiceDefaults.Security.IServiceTls>() is not null;
            var address = settings.ListenDescriptor is null ? HostRunner.Address(app) : new Uri($"{(tls ? "https" : "http")}://{settings.Bind}:{settings.Port}/");
            Console.WriteLine($"strata: {Strata.Gateway.ProxiedModule.ReplicaName(settings.Modules[0], settings.Replica)} listening on {address} (pid {Environment.ProcessId}, {(tls ? "mutual TLS" : "plain HTTP")})");
            await app.WaitForShutdownAsync(ct);
            return 0;
        });
        return command;
    }
}
