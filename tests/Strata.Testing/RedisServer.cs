using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Strata.Testing;

/// <summary>A real <c>redis-server</c> (Debian package) on a free loopback port (see <see cref="ServerProcess"/>).</summary>
public sealed class RedisServer : ServerProcess
{
    public const string InstallHint = "redis-server is not installed: apt-get install -y redis-server";

    private RedisServer(string executable, int port, bool appendOnly) : base(executable, port) => AppendOnly = appendOnly;

    public bool AppendOnly { get; }

    /// <summary>The StackExchange.Redis configuration string.</summary>
    public string Configuration => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>Null when redis-server is not installed (and not under CI).</summary>
    public static async Task<RedisServer?> StartAsync(bool appendOnly = false)
    {
        var executable = Find("redis-server", InstallHint);
        return executable is null ? null : await StartOnFreePortAsync(port => new RedisServer(executable, port, appendOnly));
    }

    protected override IEnumerable<string> Arguments() =>
    [
        "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", Folder.Path,
        "--save", string.Empty, "--appendonly", AppendOnly ? "yes" : "no", "--appendfsync", "always",
        "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning",
    ];

    protected override async Task<bool> IsReadyAsync(NetworkStream stream)
    {
        await stream.WriteAsync("PING\r\n"u8.ToArray());
        var buffer = new byte[16];
        var read = await stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
    }
}
