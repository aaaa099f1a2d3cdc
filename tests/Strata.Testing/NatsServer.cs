using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Strata.Testing;

/// <summary>A real <c>nats-server</c> (Debian package) with JetStream (file storage in a temp folder) on a free
/// loopback port (see <see cref="ServerProcess"/>).</summary>
public sealed class NatsServer : ServerProcess
{
    public const string InstallHint = "nats-server is not installed: apt-get install -y nats-server";

    private NatsServer(string executable, int port) : base(executable, port)
    {
    }

    public string Url => string.Create(CultureInfo.InvariantCulture, $"nats://127.0.0.1:{Port}");

    /// <summary>Null when nats-server is not installed (and not under CI).</summary>
    public static async Task<NatsServer?> StartAsync()
    {
        var executable = Find("nats-server", InstallHint);
        return executable is null ? null : await StartOnFreePortAsync(port => new NatsServer(executable, port));
    }

    protected override IEnumerable<string> Arguments() =>
        ["-js", "-a", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-sd", Folder.Path];

    protected override async Task<bool> IsReadyAsync(NetworkStream stream)
    {
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("INFO", StringComparison.Ordinal);
    }
}
