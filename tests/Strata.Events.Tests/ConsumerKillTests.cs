using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Events.Http;
using Strata.Events.Inbox;
using Strata.Events.Nats;
using Strata.Events.Redis;
using Strata.Events.Transport;
using Strata.Testing;

namespace Strata.Events.Tests;

/// <summary>Fault test on every backend: a consumer process is killed with SIGKILL in the middle of a batch; another
/// member of its group gets everything it had not acknowledged, and no event is lost.</summary>
public sealed class ConsumerKillTests(NatsFixture nats, RedisFixture redis) : IClassFixture<NatsFixture>, IClassFixture<RedisFixture>
{
    private const int Events = 150;

    private static string WorkerDll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
            return Path.Combine(StrataExecutable.RepositoryRoot, "tests", "Strata.Events.Worker", "bin", configuration, "net10.0", "Strata.Events.Worker.dll");
        }
    }

    [SkippableTheory]
    [InlineData("embedded-http")]
    [InlineData("nats")]
    [InlineData("redis")]
    public async Task Consumer_KilledMidBatch_AnotherMemberGetsItsUnacknowledgedEvents_NoneLost(string backend)
    {
        using var folder = new TempFolder();
        await using var host = backend == "embedded-http" ? await EventsHost.StartAsync(Path.Combine(folder.Path, "host")) : null;
        string address;
        IEventTransport transport;
        switch (backend)
        {
            case "nats":
                Skip.If(nats.Server is null, NatsServer.InstallHint);
                address = nats.Server!.Url;
                transport = new NatsJetStreamTransport(address, "strata", TimeSpan.FromHours(1), TimeSpan.FromMinutes(2));
                break;
            case "redis":
                Skip.If(redis.Server is null, RedisServer.InstallHint);
                address = redis.Server!.Configuration;
                transport = new RedisStreamsTransport(address, "strata", TimeSpan.FromHours(1), TimeSpan.FromMinutes(2));
                break;
            default:
                address = host!.Url.ToString();
                transport = new HttpEventTransport(new HttpClient { BaseAddress = host.Url });
                break;
        }
        var topic = "kill-" + Guid.NewGuid().ToString("N")[..8];
        var output = Path.Combine(folder.Path, "handled.txt");
        using var inbox = new SqliteInbox(Path.Combine(folder.Path, "publisher-inbox.db"), TimeProvider.System, TimeSpan.FromDays(1));
        await using var publisher = new EventBus(transport, new CloudEventCodec(TimeProvider.System, "/test"), inbox, NullLogger<EventBus>.Instance);

        using var first = await StartWorkerAsync(backend, address, topic, output, folder.Path);
        await publisher.PublishBatchAsync(topic, [.. Enumerable.Range(0, Events).Select(i => new KeyValuePair<string, object>($"k{i % 10}", new { n = i }))]);
        await Eventually.ValueAsync(() => Task.FromResult(Handled(output).Count), c => c >= 15, TimeSpan.FromSeconds(30), "the first consumer at work");
        first.Kill();
        await first.WaitForExitAsync();
        var atKill = Handled(output).Count;
        Assert.True(atKill < Events, "the first consumer finished before it could be killed");

        using var second = await StartWorkerAsync(backend, address, topic, output, folder.Path);
        try
        {
            var handled = await Eventually.ValueAsync(() => Task.FromResult(Handled(output)), h => h.ToHashSet().Count == Events, TimeSpan.FromSeconds(60),
                "every event handled by the surviving member");
            Assert.Equal(Enumerable.Range(0, Events), handled.ToHashSet().Order());
        }
        finally
        {
            second.Kill();
            await second.WaitForExitAsync();
        }
    }

    private static List<int> Handled(string output)
    {
        if (!File.Exists(output))
        {
            return [];
        }
        using var stream = new FileStream(output, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return [.. reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => int.Parse(l, CultureInfo.InvariantCulture))];
    }

    private static async Task<Process> StartWorkerAsync(string backend, string address, string topic, string output, string folder)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { WorkerDll, backend, address, topic, "workers", output, folder, "20" })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        Assert.True(line == "ready", $"worker did not start: {line}");
        return process;
    }
}
