using System.Globalization;

namespace Strata.Testing;

/// <summary>Finds this machine's processes by what their command line contains (Linux /proc), so a test can prove
/// that none of the processes it caused outlive it.</summary>
public static class LocalProcesses
{
    public static IReadOnlyList<int> WithArgument(string fragment)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(fragment, StringComparison.Ordinal))
                {
                    pids.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }
        return pids;
    }

    /// <summary>Last resort for a failed test: SIGKILL whatever is left.</summary>
    public static void KillAll(string fragment)
    {
        foreach (var pid in WithArgument(fragment))
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
            }
        }
    }
}
