using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Strata.Testing;

/// <summary>A real <c>redis-server</c> (Debian package) started as a child process on a free loopback port in a temp
/// folder, stopped (by pid) when disposed. Under <c>CI=true</c> a missing server is an error; elsewhere
/// <see cref="StartAsync"/> returns null and the test skips with how to install it.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string InstallHint = "redis-server is not installed: apt-get install -y redis-server";
    private readonly TempFolder _folder = new();
    private readonly string _executable;
    private Process? _process;

    private RedisServer(string executable, int port)
    {
        _executable = executable;
        Port = port;
    }

    public int Port { get; }

    public int? Pid => _process?.Id;

    /// <summary>The StackExchange.Redis configuration string.</summary>
    public string Configuration => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    public static async Task<RedisServer?> StartAsync(bool appendOnly = false)
    {
        var executable = Find("redis-server");
        if (executable is null)
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(InstallHint + " (CI=true: the tests that need it must run)");
            }
            return null;
        }
        // A port found free can be taken before redis binds it: then try another one.
        for (var attempt = 1; ; attempt++)
        {
            var server = new RedisServer(executable, StrataUp.FreePort()) { AppendOnly = appendOnly };
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

    public bool AppendOnly { get; private init; }

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
        var start = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _folder.Path,
            "--save", string.Empty, "--appendonly", AppendOnly ? "yes" : "no", "--appendfsync", "always",
            "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning",
        })
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {_process.ExitCode} on port {Port}");
            }
            if (await PingAsync())
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"redis-server on port {Port} did not answer PING within 15 s");
            }
            await Task.Delay(20);
        }
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(kill: true);
        _folder.Dispose();
    }

    internal static string? Find(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Append("/usr/bin").Append("/usr/sbin"))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }
        return null;
    }
}
