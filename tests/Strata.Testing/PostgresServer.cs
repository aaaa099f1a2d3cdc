using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Npgsql;

namespace Strata.Testing;

/// <summary>A real PostgreSQL (Debian <c>postgresql</c>) on a free loopback port with its cluster in a temp folder.
/// PostgreSQL refuses to run as root, so as root the cluster belongs to the <c>postgres</c> user and the server is
/// exec'd under it by <c>setpriv</c> (same pid: stopping it by pid stops the server). Durability is off (fsync,
/// synchronous commit): a test server, not a measurement.</summary>
public sealed class PostgresServer : ServerProcess
{
    public const string InstallHint = "PostgreSQL is not installed: apt-get install -y postgresql";
    private const string User = "strata";

    private readonly string _bin;

    private PostgresServer(string bin, int port) : base(IsRoot ? "/usr/bin/setpriv" : Path.Combine(bin, "postgres"), port) => _bin = bin;

    private static bool IsRoot => Environment.UserName == "root";

    private string DataPath => Path.Combine(Folder.Path, "data");

    /// <summary>Null when PostgreSQL is not installed (and not under CI).</summary>
    public static async Task<PostgresServer?> StartAsync()
    {
        var bin = FindBin();
        return bin is null ? null : await StartOnFreePortAsync(port => new PostgresServer(bin, port));
    }

    private static string? FindBin()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(b => File.Exists(Path.Combine(b, "postgres")))
                .OrderByDescending(b => b, StringComparer.Ordinal).FirstOrDefault()
            : null;
        if (bin is null && string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(InstallHint + " (CI=true: the tests that need it must run)");
        }
        return bin;
    }

    /// <summary>The Npgsql connection string of <paramref name="database"/>.</summary>
    public string ConnectionString(string database = "postgres") =>
        string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={Port};Username={User};Database={database};Timeout=15;Command Timeout=60");

    /// <summary>Creates a fresh database (one per test class keeps tests isolated) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= "t" + Guid.NewGuid().ToString("N")[..16];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString());
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
                await command.ExecuteNonQueryAsync();
                return ConnectionString(name);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CannotConnectNow && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50); // "the database system is starting up"
            }
        }
    }

    protected override async Task PrepareAsync()
    {
        Directory.CreateDirectory(DataPath);
        if (IsRoot)
        {
            await RunAsync("/bin/chown", "-R", "postgres:postgres", Folder.Path);
        }
        var initdb = Path.Combine(_bin, "initdb");
        string[] args = ["-D", DataPath, "-U", User, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"];
        await (IsRoot ? RunAsync("/usr/bin/setpriv", [.. Setpriv, initdb, .. args]) : RunAsync(initdb, args));
    }

    private static readonly string[] Setpriv = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"];

    protected override IEnumerable<string> Arguments()
    {
        string[] server =
        [
            "-D", DataPath, "-p", Port.ToString(CultureInfo.InvariantCulture), "-k", Folder.Path,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200", "-c", "shared_buffers=128MB",
        ];
        return IsRoot ? [.. Setpriv, Path.Combine(_bin, "postgres"), .. server] : server;
    }

    /// <summary>Answers an SSLRequest ('N': no TLS) once it accepts connections.</summary>
    protected override async Task<bool> IsReadyAsync(NetworkStream stream)
    {
        await stream.WriteAsync(new byte[] { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f });
        var buffer = new byte[1];
        return await stream.ReadAsync(buffer) == 1 && buffer[0] is (byte)'N' or (byte)'S';
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await output}{await error}");
        }
    }
}
