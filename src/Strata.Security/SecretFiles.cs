namespace Strata.Security;

/// <summary>Files holding a secret (the first admin key, the service token): created readable and writable by their
/// owner only (0600), never rewritten in place.</summary>
public static class SecretFiles
{
    public static void Write(string path, string secret)
    {
        ArgumentNullException.ThrowIfNull(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(secret);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads the secret in <paramref name="path"/>, or creates it with <paramref name="create"/> when absent. Several
    /// processes starting together agree on one: the first to create the file wins, the others read it.</summary>
    public static string ReadOrCreate(string path, Func<string> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        for (var attempt = 0; ; attempt++)
        {
            if (File.Exists(path))
            {
                var text = File.ReadAllText(path).Trim();
                if (text.Length > 0 || attempt > 20)
                {
                    return text.Length > 0 ? text : throw new InvalidOperationException($"{path} is empty");
                }
                Thread.Sleep(50); // another process created it and is writing it
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            try
            {
                var secret = create();
                using var stream = new FileStream(path, options);
                using var writer = new StreamWriter(stream);
                writer.Write(secret);
                return secret;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Created by another process between the check and ours: read theirs.
            }
        }
    }
}
