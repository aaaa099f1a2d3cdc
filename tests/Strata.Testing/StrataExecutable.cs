using System.Diagnostics;

namespace Strata.Testing;

/// <summary>The built <c>strata</c> command (src/Strata.Cli/bin/&lt;configuration&gt;/net10.0/strata.dll), run through
/// the <c>dotnet</c> muxer as a real child process.</summary>
public static class StrataExecutable
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Dll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            var path = Path.Combine(RepositoryRoot, "src", "Strata.Cli", "bin", configuration, "net10.0", "strata.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"build Strata.Cli first: {path} is missing");
        }
    }

    public static ProcessStartInfo StartInfo(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot,
        };
        info.ArgumentList.Add(Dll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        return info;
    }

    /// <summary>Runs <c>strata</c> to completion (bounded by <paramref name="timeout"/>) and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(TimeSpan timeout, params string[] arguments) =>
        RunAsync(timeout, null, arguments);

    /// <summary>Runs <c>strata</c> with <paramref name="environment"/> added (e.g. <see cref="TestKeys.Environment"/>).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(TimeSpan timeout, IReadOnlyDictionary<string, string>? environment,
        params string[] arguments)
    {
        var start = StartInfo(arguments);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"strata {string.Join(' ', arguments)} did not exit within {timeout.TotalSeconds:F0}s");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Strata.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("Strata.slnx not found above " + AppContext.BaseDirectory);
    }
}
