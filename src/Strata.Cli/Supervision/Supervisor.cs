using Spectre.Console;
using Strata.Cli.Commands;
using Strata.Cli.Seed;
using Strata.Contracts;
using Strata.Contracts.Data;
using Strata.Contracts.Registry;
using Strata.Contracts.Training;
using Strata.Hosting;

namespace Strata.Cli.Supervision;

/// <summary>The microservices topology on one machine: one <c>strata serve</c> child per module plus the gateway on
/// the public port; waits for each to be ready, seeds a fresh data directory through the gateway, restarts a child
/// that dies (with backoff), and on Ctrl-C / SIGTERM stops every child before exiting.</summary>
internal static class Supervisor
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    /// <summary>The supervisor's own certificate (identity <c>supervisor</c>: health endpoints only), when mutual TLS is on.</summary>
    private static Strata.Security.Certificates.MutualTls? Tls { get; set; }

    public static async Task<int> RunAsync(int port, System.Net.IPAddress bind, string dataDirectory, bool keyExisted,
        IReadOnlyDictionary<string, int> replicas, CancellationToken ct)
    {
        InheritableListener front;
        try
        {
            front = InheritableListener.Bind(port, bind);
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            throw new StartupException($"port {port} on 127.0.0.1 is already in use", e);
        }
        // Every socket is bound before any child starts and held until the end: the ports are distinct and stay ours.
        var modules = StrataModules.All;
        // Between the processes, mutual TLS with a certificate per service (created on first start); off only when
        // Strata__Security__Mtls__Enabled=false says so (a benchmark's plain peer).
        var tls = CertsCommand.SupervisorTls(dataDirectory);
        var scheme = tls is null ? "http" : "https";
        // One socket per process: a replicated module has one per replica, and its URLs are all of theirs (the gateway
        // balances over them; other callers use the first).
        var listeners = modules.SelectMany(m => Enumerable.Range(1, replicas.GetValueOrDefault(m.Name, 1)).Select(r => (Module: m.Name, Replica: r, Listener: InheritableListener.Bind(0))))
            .ToList();
        var environment = listeners.GroupBy(l => l.Module).ToDictionary(g => $"Strata__Services__{g.Key}",
            g => string.Join(' ', g.Select(l => $"{scheme}://127.0.0.1:{l.Listener.Port}/")));
        environment[CertsCommand.EnabledVariable] = tls is null ? "false" : "true";
        var children = listeners.Select(l => new ModuleProcess(l.Module, l.Listener, dataDirectory, environment, scheme, replica: l.Replica))
            .Append(new ModuleProcess(HostSettings.Gateway, front, dataDirectory, environment, bind: bind.ToString()))
            .ToList();
        Tls = tls;
        var gateway = children[^1];
        try
        {
            foreach (var child in children)
            {
                child.Start();
            }
            // The monitor runs from the first moment: a child that dies while others are still starting is restarted too.
            using var startupCancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var monitor = MonitorAsync(children, ct);
            var startup = StartupAsync(children, gateway, dataDirectory, keyExisted, startupCancel.Token);
            if (await Task.WhenAny(monitor, startup) == monitor)
            {
                await startupCancel.CancelAsync();
                await monitor;
                return 0;
            }
            await startup;
            await monitor;
            return 0;
        }
        finally
        {
            DataDirectory.ForgetAddress(dataDirectory);
            foreach (var tier in StopOrder(children))
            {
                await Task.WhenAll(tier.Select(c => c.StopAsync(TimeSpan.FromSeconds(10))));
            }
            foreach (var child in children)
            {
                child.Dispose();
            }
        }
    }

    private static async Task StartupAsync(List<ModuleProcess> children, ModuleProcess gateway, string dataDirectory, bool keyExisted, CancellationToken ct)
    {
        // A module that is ready only after the seed (serving: once it has a model) and the gateway (ready when all
        // behind it are) are waited for as live; every one is ready before the supervisor says so.
        var readyOnStart = StrataModules.All.Where(m => m.ReadyOnStart).Select(m => m.Name).ToHashSet();
        await WaitAsync(children.Where(c => readyOnStart.Contains(c.Module)), "/health/ready", ct);
        await WaitAsync(children.Where(c => !readyOnStart.Contains(c.Module)), "/health/live", ct);
        using (var http = new HttpClient { BaseAddress = gateway.Url, Timeout = TimeSpan.FromMinutes(30) })
        {
            // The seed goes through the gateway as any client does: with the key the security module wrote on first start.
            if (CommonOptions.ApiKey(Environment.GetEnvironmentVariable(Strata.Contracts.Security.SecurityRoutes.ApiKeyVariable),
                Path.Combine(dataDirectory, DataDirectory.ApiKeyFile)) is { } key)
            {
                http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            }
            var seed = new SeedExample(new HttpDataClient(http), new HttpTrainingClient(http), new HttpRegistryClient(http));
            await UpCommand.SeedAsync(seed, dataDirectory, ct);
        }
        await WaitAsync(children, "/health/ready", ct);
        DataDirectory.RecordAddress(dataDirectory, gateway.Url);
        UpCommand.PrintServices(children.Select(c => new ServiceRow(c.Name, c.Url, c.Process!.Id, "ready")), gateway.Url, dataDirectory, keyExisted);
        AnsiConsole.MarkupLineInterpolated($"logs: {Path.Combine(dataDirectory, "logs")}");
    }

    /// <summary>Stops callers before what they call, in tiers (the gateway; modules no running process calls; ...; the
    /// security and events modules, which every process calls, last), each tier at once. A child stopping after a module
    /// it calls hung until killed (10 s): that module's port, still held by the supervisor, accepted its connection and
    /// never answered (issue 24: stopping took 6-16 s).</summary>
    internal static IEnumerable<List<ModuleProcess>> StopOrder(IReadOnlyList<ModuleProcess> children)
    {
        var callers = children.Select(c => c.Module).Distinct().ToDictionary(m => m, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var module in StrataModules.All)
        {
            foreach (var callee in module.Calls.Append(ModuleNames.Security).Append(ModuleNames.Events).Where(c => c != module.Name && callers.ContainsKey(c)))
            {
                callers[callee].Add(module.Name);
            }
        }
        foreach (var (module, set) in callers.Where(c => c.Key != HostSettings.Gateway))
        {
            set.Add(HostSettings.Gateway);
        }
        var remaining = children.ToList();
        while (remaining.Count > 0)
        {
            var tier = remaining.Where(c => !callers[c.Module].Any(caller => caller != c.Module && remaining.Any(r => r.Module == caller))).ToList();
            if (tier.Count == 0)
            {
                // A cycle (the registry asks monitoring for rollout gates, monitoring asks the registry for baselines) stops
                // together, and still before what every process calls: stopped with them, the registry's last writes hung
                // on the events module's held socket (stopping took 7.1 s).
                tier = [.. remaining.Where(c => c.Module is not (ModuleNames.Security or ModuleNames.Events))];
            }
            // What calls each other and is called by every process (security and events) stops together, last.
            tier = tier.Count > 0 ? tier : [.. remaining];
            yield return tier;
            remaining.RemoveAll(tier.Contains);
        }
    }

    /// <summary>Restarts any child that exits while the supervisor runs; gives up on a child after 5 restarts in a row
    /// that each lived under 10 seconds (a crash loop is a bug to read in its log, not to hide).</summary>
    private static async Task MonitorAsync(List<ModuleProcess> children, CancellationToken ct)
    {
        var startedAt = children.ToDictionary(c => c, _ => TimeProvider.System.GetUtcNow());
        var quickFailures = children.ToDictionary(c => c, _ => 0);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(250, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            foreach (var child in children.Where(c => c.HasExited))
            {
                var lived = TimeProvider.System.GetUtcNow() - startedAt[child];
                quickFailures[child] = lived < TimeSpan.FromSeconds(10) ? quickFailures[child] + 1 : 0;
                if (quickFailures[child] > 5)
                {
                    throw new StartupException($"{child.Name} keeps crashing (exit code {child.Process?.ExitCode}); see {child.LogPath}");
                }
                AnsiConsole.MarkupLineInterpolated($"[yellow]{child.Name} exited (code {child.Process?.ExitCode}); restarting[/]");
                await Task.Delay(TimeSpan.FromMilliseconds(200 * quickFailures[child]), ct);
                child.Restart();
                startedAt[child] = TimeProvider.System.GetUtcNow();
                AnsiConsole.MarkupLineInterpolated($"{child.Name} restarted as pid {child.Process!.Id}");
            }
        }
    }

    private static Task WaitAsync(IEnumerable<ModuleProcess> children, string path, CancellationToken ct) =>
        Task.WhenAll(children.Select(async child =>
        {
            // A first request to a process still warming up (eight processes JIT-compiling on two cores) can take seconds;
            // only the overall start timeout decides that a child did not come up.
            using var http = child.Url.Scheme == Uri.UriSchemeHttps && Tls is { } tls
                ? new HttpClient(tls.CreateHandler(child.Module)) { BaseAddress = child.Url, Timeout = StartTimeout }
                : new HttpClient { BaseAddress = child.Url, Timeout = StartTimeout };
            try
            {
                await Readiness.WaitAsync(http, StartTimeout, ct, path);
            }
            catch (StartupException e)
            {
                throw new StartupException($"{child.Name}: {e.Message}; see {child.LogPath}", e);
            }
        }));
}
