using System.Net;
using System.Net.Sockets;
using Strata.Testing;

namespace Strata.EndToEnd.Tests;

/// <summary>A start that cannot work prints one clear line and exits non-zero, never a stack trace.</summary>
public sealed class CliErrorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static void AssertOneLine(string stderr, string expected)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("strata: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("up --topology mesh")]
    [InlineData("up --port 70000")]
    [InlineData("up --port abc")]
    [InlineData("serve --module nope")]
    [InlineData("up --bind localhost-ish")]
    [InlineData("keys create")]
    [InlineData("serve")]
    public async Task Strata_BadUsage_ExitsTwoWithOneLine(string arguments)
    {
        var (exit, _, stderr) = await StrataExecutable.RunAsync(Timeout, arguments.Split(' '));
        Assert.Equal(2, exit);
        AssertOneLine(stderr, "see 'strata --help'");
    }

    [Theory]
    [InlineData("up --topology microservices --replicas data=2", "data keeps state of its own")]
    [InlineData("up --topology microservices --replicas nope=2", "there is no module 'nope'")]
    [InlineData("up --topology microservices --replicas serving=0", "between 1 and 16")]
    [InlineData("up --topology microservices --replicas serving", "expected MODULE=COUNT")]
    [InlineData("up --replicas serving=3", "--replicas needs --topology microservices")]
    [InlineData("serve --module registry --replica 2", "registry keeps state of its own")]
    public async Task Strata_BadReplicas_ExitsTwoNamingTheReason(string arguments, string reason)
    {
        var (exit, _, stderr) = await StrataExecutable.RunAsync(Timeout, arguments.Split(' '));
        Assert.Equal(2, exit);
        AssertOneLine(stderr, reason);
    }

    [Theory]
    [InlineData("monolith")]
    [InlineData("microservices")]
    public async Task Up_PortInUse_ExitsOneWithOneLine(string topology)
    {
        using var folder = new TempFolder();
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (exit, _, stderr) = await StrataExecutable.RunAsync(Timeout, "up", "--topology", topology, "--port", port, "--data-dir", folder.Path);

        Assert.Equal(1, exit);
        AssertOneLine(stderr, $"port {port}");
        Assert.Empty(LocalProcesses.WithArgument(folder.Path));
    }

    [Fact]
    public async Task Up_UnwritableDataDir_ExitsOneWithOneLine()
    {
        using var folder = new TempFolder();
        var file = Path.Combine(folder.Path, "a-file");
        await File.WriteAllTextAsync(file, "not a directory");

        var (exit, _, stderr) = await StrataExecutable.RunAsync(Timeout, "up", "--data-dir", Path.Combine(file, "sub"), "--port", "1");

        Assert.Equal(1, exit);
        AssertOneLine(stderr, "is not writable");
    }

    /// <summary>Two servers on one data directory corrupted each other's event log (issue 24): a second start is refused
    /// at once, naming the holder, whichever way it is started; the first keeps serving.</summary>
    [Fact]
    public async Task Up_DataDirectoryInUse_IsRefusedNamingTheHolder()
    {
        using var folder = new TempFolder();
        await using var first = await StrataUp.StartAsync("monolith", folder.Path);
        foreach (var arguments in new[] { "up --port 0", "up --topology microservices --port 0", "serve --module events --port 0" })
        {
            var (exit, _, stderr) = await StrataExecutable.RunAsync(Timeout, [.. arguments.Split(' '), "--data-dir", folder.Path]);
            Assert.Equal(1, exit);
            AssertOneLine(stderr, $"pid {first.Pid}");
        }
        Assert.Equal(new[] { first.Pid }, LocalProcesses.WithArgument(folder.Path));
        using var ready = await first.Http.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Serve_MissingDependencyUrl_ExitsOneNamingTheSetting()
    {
        using var folder = new TempFolder();
        var (exit, _, stderr) = await StrataExecutable.RunAsync(Timeout, "serve", "--module", "training", "--port", "0", "--data-dir", folder.Path);
        Assert.Equal(1, exit);
        AssertOneLine(stderr, "Strata:Services:");
    }
}
