using System.Diagnostics;

namespace Strata.Testing;

/// <summary>A real terminal for CLI tests: a tmux server of its own (its own socket), sessions of a given size running
/// bash in a folder, keys typed into them and their screens read back. Null when tmux is not installed (under
/// <c>CI=true</c>: an exception). Disposing kills the server and everything it started.</summary>
public sealed class Tmux : IAsyncDisposable
{
    public const string InstallHint = "tmux is not installed (apt-get install tmux)";

    private readonly string _tmux;
    private readonly string _socket = "strata-test-" + Guid.NewGuid().ToString("N")[..12];
    private int _commands;

    private Tmux(string tmux) => _tmux = tmux;

    public static Tmux? Create()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Append("/usr/bin").Select(d => Path.Combine(d, "tmux")).FirstOrDefault(File.Exists);
        if (path is null && string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(InstallHint + " (CI=true: the tests that need it must run)");
        }
        return path is null ? null : new Tmux(path);
    }

    /// <summary>A session <paramref name="width"/> × <paramref name="height"/> running a plain bash in <paramref name="folder"/>,
    /// with <paramref name="unset"/> removed from its environment.</summary>
    public async Task OpenAsync(string session, int width, int height, string folder, params string[] unset)
    {
        await RunAsync(["new-session", "-d", "-s", session, "-x", width.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-y", height.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", folder,
            $"env {string.Join(" ", unset.Select(u => "-u " + u))} PS1='$ ' TERM=xterm-256color bash --norc --noprofile"]);
    }

    /// <summary>Types <paramref name="command"/> and Enter.</summary>
    public Task TypeAsync(string session, string command) => RunAsync(["send-keys", "-t", session, "-l", command]).ContinueWith(_ => RunAsync(["send-keys", "-t", session, "Enter"])).Unwrap();

    public Task InterruptAsync(string session) => RunAsync(["send-keys", "-t", session, "C-c"]);

    /// <summary>The screen (and scroll-back) of <paramref name="session"/>; <paramref name="joined"/>: lines the terminal
    /// wrapped joined back into one.</summary>
    public Task<string> ScreenAsync(string session, bool joined = false) =>
        RunAsync(joined ? ["capture-pane", "-p", "-J", "-S", "-", "-t", session] : ["capture-pane", "-p", "-S", "-", "-t", session]);

    /// <summary>Waits until <paramref name="text"/> is on the screen (bounded by <paramref name="timeout"/>).</summary>
    public async Task<string> WaitForAsync(string session, string text, TimeSpan timeout, bool joined = false)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var screen = await ScreenAsync(session, joined);
            if (screen.Contains(text, StringComparison.Ordinal))
            {
                return screen;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"'{text}' did not appear in {timeout}; the screen:\n{screen}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Clears the screen, runs <paramref name="command"/> and returns what it printed, as the terminal shows it.</summary>
    public async Task<string> CommandAsync(string session, string command, TimeSpan timeout, bool joined = false)
    {
        var n = Interlocked.Increment(ref _commands);
        await RunAsync(["clear-history", "-t", session]);
        await TypeAsync(session, $"clear; {command}; echo __END$(({n}))__");
        var screen = await WaitForAsync(session, $"__END{n}__\n", timeout, joined);
        var lines = screen.Split('\n');
        var end = Array.FindIndex(lines, l => l == $"__END{n}__");
        var start = Array.FindIndex(lines, l => l.Contains($"__END$(({n}))__", StringComparison.Ordinal));
        return string.Join('\n', lines[(start + 1)..end]);
    }

    private async Task<string> RunAsync(string[] arguments)
    {
        var start = new ProcessStartInfo(_tmux) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-L");
        start.ArgumentList.Add(_socket);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(cancel.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"tmux {string.Join(' ', arguments)}: {await error}");
        }
        return await output;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync(["kill-server"]);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
