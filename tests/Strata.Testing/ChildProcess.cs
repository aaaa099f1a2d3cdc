using System.Diagnostics;

namespace Strata.Testing;

/// <summary>Runs a program to its end (a validator, promtool, node): its exit code and output (stdout, then stderr);
/// past <c>timeout</c> it is killed and the exit code is -1.</summary>
public static class ChildProcess
{
    public static async Task<(int Exit, string Output)> RunAsync(string file, IReadOnlyList<string> arguments, TimeSpan timeout, string? directory = null,
        IReadOnlyDictionary<string, string>? environment = null, string? input = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null, UseShellExecute = false,
        };
        if (directory is not null)
        {
            start.WorkingDirectory = directory;
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, $"timed out after {timeout}: {await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
