using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Strata.Testing;

/// <summary>A real server from a Debian package (redis-server, nats-server) run as a child process on a free loopback
/// port with its data in a temp folder, stopped by pid when disposed. Under <c>CI=true</c> a missing executable is an
/// error; elsewhere <see cref="Find"/> returns null and the test skips with the install hint.</summary>
public abstract class ServerProcess : IAsyncDisposable
{
    private readonly string _executable;
    private Process? _process;

    protected ServerProcess(string executable, int port)
    {
        _executable = executable;
        Port = port;
    }

    public int Port { get; }

    public int? Pid => _process?.Id;

    protected TempFolder Folder { get; } = new();

    protected abstract IEnumerable<string> Arguments();

    /// <summary>Runs before the first start (e.g. creating the data folder's cluster).</summary>
    protected virtual Task PrepareAsync() => Task.CompletedTask;

    private bool _prepared;

    /// <summary>True once the server answers on its port.</summary>
    protected abstract Task<bool> IsReadyAsync(NetworkStream stream);

    /// <summary>Finds the executable; null (or, under CI, an exception) when it is not installed.</summary>
    protected static string? Find(string name, string installHint)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Append("/usr/bin").Append("/usr/sbin"))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(installHint + " (CI=true: the tests that need it must run)");
        }
        return null;
    }

    /// <summary>Starts a server made by <paramref name="create"/> on a free port; a port taken between the check and
    /// the bind is retried with another.</summary>
    protected static async Task<T> StartOnFreePortAsync<T>(Func<int, T> create) where T : ServerProcess
    {
        for (var attempt = 1; ; attempt++)
        {
            var server = create(StrataUp.FreePort());
            try
            {
                await server.StartProcessAsync();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Stops the server (SIGKILL when <paramref name="kill"/>, else SIGTERM) and waits for it to exit.</summary>
    public async Task StopAsync(bool kill = false)
    {
        if (_process is null)
        {
            return;
        }
        if (kill)
        {
            _process.Kill();
        }
        else
        {
            using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await term!.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>Starts the server again on the same port and folder (after <see cref="StopAsync"/>).</summary>
    public Task RestartAsync() => StartProcessAsync();

    private async Task StartProcessAsync()
    {
        if (!_prepared)
        {
            await PrepareAsync();
            _prepared = true;
        }
        var start = new ProcessStartInfo(_executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in Arguments())
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException($"{_executable} did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{_executable} exited with {_process.ExitCode} on port {Port}");
            }
            if (await ProbeAsync())
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{_executable} on port {Port} did not answer within 15 s");
            }
            await Task.Delay(20);
        }
    }

    private async Task<bool> ProbeAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            return await IsReadyAsync(client.GetStream());
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(kill: true);
        Folder.Dispose();
        GC.SuppressFinalize(this);
    }
}
