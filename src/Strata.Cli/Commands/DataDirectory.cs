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

    /// <summary>The file <c>strata up</c> writes its address to once ready, so the client commands find it.</summary>
    public const string AddressFile = "address";

    /// <summary>The file a fresh <c>strata up</c> writes its first admin key to (owner-only), for the client commands.</summary>
    public const string ApiKeyFile = "api-key";

    /// <summary>The default data directory (<c>--data-dir</c>).</summary>
    public const string Default = ".strata";

    public static void RecordAddress(string dataDirectory, Uri address)
    {
        try
        {
            File.WriteAllText(Path.Combine(dataDirectory, AddressFile), address.ToString());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only a convenience for the client commands: --url and STRATA_URL still work.
        }
    }

    public static void ForgetAddress(string dataDirectory)
    {
        try
        {
            File.Delete(Path.Combine(dataDirectory, AddressFile));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
