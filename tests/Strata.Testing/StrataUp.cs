using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Strata.Testing;

/// <summary>A running <c>strata up</c> (real child process on a free loopback port), stopped by pid.</summary>
public sealed class StrataUp : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private StrataUp(Process process, string topology, int port, string dataDirectory)
    {
        _process = process;
        Topology = topology;
        Port = port;
        DataDirectory = dataDirectory;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(2) };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The last line <c>strata up</c> prints once everything is started.</summary>
    public const string ReadyMarker = "stop: Ctrl-C";

    public string Topology { get; }

    public int Port { get; }

    public string DataDirectory { get; }

    /// <summary>A client of the front door presenting <see cref="ApiKey"/>.</summary>
    public HttpClient Http { get; }

    /// <summary>The admin key the first start of this data directory wrote (<c>api-key</c>).</summary>
    public string ApiKey { get; private set; } = string.Empty;

    /// <summary>The environment a CLI run against this Strata needs.</summary>
    public IReadOnlyDictionary<string, string> CliEnvironment => TestKeys.Environment(ApiKey);

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>strata up</c> and waits until the gateway answers <c>/health/ready</c>.</summary>
    /// <param name="environment">Extra environment of the process (and so of the module processes it supervises),
    /// e.g. <c>Strata__Events__Backend</c>.</param>
    /// <param name="arguments">Extra arguments of <c>strata up</c>, e.g. <c>--replicas serving=3</c>.</param>
    public static async Task<StrataUp> StartAsync(string topology, string dataDirectory, int? port = null, IReadOnlyDictionary<string, string>? environment = null,
        IReadOnlyList<string>? arguments = null)
    {
        // A port found free can be taken (e.g. as the local port of some outbound connection) before strata binds it;
        // when the port was ours to choose, choose again.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(topology, dataDirectory, port ?? FreePort(), environment, arguments ?? []);
            }
            catch (PortTakenException) when (port is null && attempt < 3)
            {
            }
        }
    }

    private sealed class PortTakenException(string message) : InvalidOperationException(message);

    private static async Task<StrataUp> StartOnceAsync(string topology, string dataDirectory, int chosen, IReadOnlyDictionary<string, string>? environment,
        IReadOnlyList<string> arguments)
    {
        var start = StrataExecutable.StartInfo(["up", "--topology", topology, "--port", chosen.ToString(CultureInfo.InvariantCulture), "--data-dir", dataDirectory, .. arguments]);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start)!;
        var up = new StrataUp(process, topology, chosen, dataDirectory);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // and its output is read to the end
                var message = $"strata up exited with {process.ExitCode}:\n{up.Output}{ModuleLogs(dataDirectory)}";
                throw up.Output.Contains("is already in use", StringComparison.Ordinal) ? new PortTakenException(message) : new InvalidOperationException(message);
            }
            try
            {
                // Ready means: the front door answers ready and 'up' has finished (printed its services table).
                using var response = await up.Http.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (response.IsSuccessStatusCode && up.Output.Contains(ReadyMarker, StringComparison.Ordinal))
                {
                    up.ApiKey = TestKeys.FromDataDirectory(dataDirectory);
                    TestKeys.Authorize(up.Http, up.ApiKey);
                    return up;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200);
        }
        await up.DisposeAsync();
        throw new TimeoutException($"strata up --topology {topology} was not ready within 2 minutes:\n{up.Output}{ModuleLogs(dataDirectory)}");
    }

    /// <summary>The last lines of each module process's log (microservices), for a start that failed: why a child
    /// exited is there, not in the supervisor's output.</summary>
    private static string ModuleLogs(string dataDirectory)
    {
        var folder = Path.Combine(dataDirectory, "logs");
        if (!Directory.Exists(folder))
        {
            return string.Empty;
        }
        var text = new StringBuilder();
        foreach (var log in Directory.EnumerateFiles(folder, "*.log").Order(StringComparer.Ordinal))
        {
            try
            {
                text.Append("\n--- ").Append(Path.GetFileName(log)).Append(" (last 15 lines) ---\n")
                    .AppendJoin('\n', File.ReadLines(log).TakeLast(15));
            }
            catch (IOException e)
            {
                text.Append("\n--- ").Append(Path.GetFileName(log)).Append(": ").Append(e.Message);
            }
        }
        return text.ToString();
    }

    /// <summary>SIGTERM (what Ctrl-C / an orchestrator sends) and wait for a clean exit.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15);
        }
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the process gets no chance to clean up.</summary>
    public void Kill() => _process.Kill(entireProcessTree: false);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            try
            {
                await StopAsync(TimeSpan.FromSeconds(20));
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        LocalProcesses.KillAll(DataDirectory);
        _process.Dispose();
    }
}
