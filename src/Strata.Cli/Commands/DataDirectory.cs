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

    /// <summary>Holds <paramref name="name"/> of the data directory for as long as this process runs (an exclusive lock
    /// on <c>&lt;name&gt;.lock</c>, released by the system when the process exits, however it exits): two servers on one
    /// data directory corrupt each other's files (a second <c>strata up</c> broke the first's event log reads). The pid
    /// is written beside it, so the refusal names the holder. <c>strata up</c> holds <c>strata</c> (the monolith also
    /// every module); <c>strata serve --module X</c> holds <c>X</c>.</summary>
    public static IDisposable Lock(string dataDirectory, params IEnumerable<string> names)
    {
        var held = new List<FileStream>();
        try
        {
            foreach (var name in names)
            {
                var path = Path.Combine(dataDirectory, $"{name}.lock");
                try
                {
                    held.Add(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
                }
                catch (IOException e)
                {
                    var pid = ReadPid(Path.Combine(dataDirectory, $"{name}.pid"));
                    throw new StartupException($"the data directory '{dataDirectory}' is in use by another Strata{(pid is null ? string.Empty : $" (pid {pid})")} "
                        + $"({(name == "strata" ? "strata up" : $"the {name} module")}): stop it first, or give this one another --data-dir", e);
                }
                File.WriteAllText(Path.Combine(dataDirectory, $"{name}.pid"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            return new Held(held);
        }
        catch
        {
            new Held(held).Dispose();
            throw;
        }
    }

    private static string? ReadPid(string file)
    {
        try
        {
            var text = File.ReadAllText(file).Trim();
            return text.Length is > 0 and < 12 && text.All(char.IsAsciiDigit) ? text : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private sealed class Held(List<FileStream> streams) : IDisposable
    {
        public void Dispose()
        {
            foreach (var stream in streams)
            {
                stream.Dispose();
            }
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
