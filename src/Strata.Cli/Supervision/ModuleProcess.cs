using System.Diagnostics;
using System.Globalization;
using Strata.Hosting;

namespace Strata.Cli.Supervision;

/// <summary>One supervised child: <c>strata serve --module NAME --port N</c> on a socket the supervisor holds (the same
/// one across restarts), its output appended to a log file.</summary>
internal sealed class ModuleProcess(string module, InheritableListener listener, string dataDirectory, IReadOnlyDictionary<string, string> environment,
    string scheme = "http", string? bind = null, int replica = 1) : IDisposable
{
    private readonly Lock _logLock = new();
    private StreamWriter? _log;

    public string Module { get; } = module;

    /// <summary>Which replica of <see cref="Module"/> this is (1 unless <c>--replicas</c> runs several).</summary>
    public int Replica { get; } = replica;

    /// <summary>The module's name, or <c>module.N</c> for its replica N: its row, its log and its lock.</summary>
    public string Name { get; } = Strata.Gateway.ProxiedModule.ReplicaName(module, replica);

    public int Port { get; } = listener.Port;

    public Uri Url { get; } = new($"{scheme}://127.0.0.1:{listener.Port}/");

    public string LogPath { get; } = Path.Combine(dataDirectory, "logs", $"{Strata.Gateway.ProxiedModule.ReplicaName(module, replica)}.log");

    public Process? Process { get; private set; }

    public int Restarts { get; private set; }

    public bool HasExited => Process is null || Process.HasExited;

    public void Start()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LogPath)!);
        _log ??= new StreamWriter(LogPath, append: true) { AutoFlush = true };
        var info = SelfLauncher.StartInfo(["serve", "--module", Module, "--port", Port.ToString(CultureInfo.InvariantCulture), "--data-dir", dataDirectory,
            .. (bind is null ? Array.Empty<string>() : ["--bind", bind]),
            .. (Replica == 1 ? Array.Empty<string>() : ["--replica", Replica.ToString(CultureInfo.InvariantCulture)])]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        info.Environment[ParentWatcher.Variable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        listener.Start(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (Process is { } previous)
        {
            // An exited process may still be delivering its last output lines; disposing it under its reader threads
            // throws on them and takes the supervisor down. WaitForExit() returns once its output is drained.
            previous.WaitForExit();
            previous.Dispose();
        }
        Process = process;
    }

    public void Restart()
    {
        Restarts++;
        Write($"--- supervisor: restarting {Name} (restart {Restarts}) ---");
        Start();
    }

    /// <summary>SIGTERM, then SIGKILL (with its whole tree) if it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (Process is not { } process || process.HasExited)
        {
            return;
        }
        Signals.Terminate(process.Id);
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    private void Write(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_logLock)
        {
            _log?.WriteLine(line);
        }
    }

    public void Dispose()
    {
        Process?.Dispose();
        listener.Dispose();
        lock (_logLock)
        {
            _log?.Dispose();
            _log = null;
        }
    }
}
