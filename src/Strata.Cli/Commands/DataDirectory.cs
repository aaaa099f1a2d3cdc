namespace Strata.Cli.Commands;

/// <summary>Checks that the data directory can be created and written before anything is started.</summary>
internal static class DataDirectory
{
    public static string Prepare(string path)
    {
        try
        {
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(full);
            var probe = Path.Combine(full, $".write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
            return full;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new StartupException($"data directory '{path}' is not writable: {e.Message}", e);
        }
    }
}
