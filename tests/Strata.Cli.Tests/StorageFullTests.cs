using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Strata.Cli.Commands;
using Strata.Hosting;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>A full disk (issue 24: a generic 500 on every write): a monolith on a small tmpfs whose space a filler file
/// takes. Ingest, artifact upload, offline push, event publish and MLflow writes answer 507 (in MLflow's shape on its
/// paths), keep nothing half-written, and work again once space is freed. Needs mount (root); skipped elsewhere
/// outside CI, where it must run.</summary>
public sealed class StorageFullTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private bool _mounted;
    private WebApplication? _app;
    private HttpClient? _http;
    private HttpClient? _broker;

    private string Data => Path.Combine(_folder.Path, "disk");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Data);
        _mounted = Run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", Data) == 0;
        if (!_mounted)
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException("mounting a tmpfs failed: the storage-full test needs root (CI=true: it must run)");
            }
            return;
        }
        _app = StrataHost.Build(HostSettings.Monolith(0, Data));
        await _app.StartAsync();
        _http = TestKeys.Authorize(new HttpClient { BaseAddress = HostRunner.Address(_app), Timeout = TimeSpan.FromSeconds(60) }, TestKeys.Create(_app.Services));
        _broker = TestKeys.Authorize(new HttpClient { BaseAddress = HostRunner.Address(_app), Timeout = TimeSpan.FromSeconds(60) }, TestKeys.ServiceToken(Data));
    }

    [SkippableFact]
    public async Task FullDisk_WritesAnswer507_KeepNothing_AndRecover()
    {
        Skip.IfNot(_mounted, "mounting a tmpfs needs root");
        var http = _http!;
        using (var first = await http.PostAsync(new Uri("/api/data/datasets/before", UriKind.Relative), Csv(100)))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }
        var datasets = await http.GetStringAsync("/api/data/datasets");
        var filler = Path.Combine(Data, "filler");
        Fill(filler);

        var refused = new List<(string What, HttpResponseMessage Answer)>
        {
            ("ingest", await http.PostAsync(new Uri("/api/data/datasets/during", UriKind.Relative), Csv(20_000))),
            ("artifact upload", await http.PostAsync(new Uri("/api/registry/artifacts", UriKind.Relative), new ByteArrayContent(new byte[4 << 20]))),
            ("offline push", await http.PostAsJsonAsync("/api/features/push", Push(1000, "offline"))),
            ("event publish", await _broker!.PostAsJsonAsync("/api/events/topics/full.disk/messages", Messages(2000))),
            ("mlflow write", await http.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = "full-" + new string('x', 200) })),
        };
        foreach (var (what, answer) in refused)
        {
            var body = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.InsufficientStorage, $"{what}: {(int)answer.StatusCode} {body}");
            Assert.Contains("full", body, StringComparison.Ordinal);
            answer.Dispose();
        }
        Assert.Equal("RESOURCE_EXHAUSTED", JsonDocument.Parse(await (await http.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = "full-again" }))
            .Content.ReadAsStringAsync()).RootElement.GetProperty("error_code").GetString());
        Assert.Equal(datasets, await http.GetStringAsync("/api/data/datasets"));

        File.Delete(filler);
        using (var after = await http.PostAsync(new Uri("/api/data/datasets/during", UriKind.Relative), Csv(20_000)))
        {
            Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        }
        using (var push = await http.PostAsJsonAsync("/api/features/push", Push(1000, "offline")))
        {
            Assert.True(push.IsSuccessStatusCode, await push.Content.ReadAsStringAsync());
        }
        using (var created = await http.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = "after-full" }))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }
        var leftovers = Directory.GetFiles(Data, "*", SearchOption.AllDirectories)
            .Where(f => f.Contains(".incoming", StringComparison.Ordinal) || f.EndsWith(".tmp", StringComparison.Ordinal)).ToList();
        Assert.True(leftovers.Count == 0, "half-written files left: " + string.Join(", ", leftovers.Select(f => Path.GetRelativePath(Data, f))));
    }

    private static StringContent Csv(int rows)
    {
        var csv = new StringBuilder("age,income,target\n");
        for (var i = 0; i < rows; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{20 + (i % 50)},{30000 + i},{i % 2}\n");
        }
        return new StringContent(csv.ToString(), Encoding.UTF8, "text/csv");
    }

    private static object Push(int rows, string to) => new
    {
        push_source_name = "user_profiles",
        df = new Dictionary<string, object[]>
        {
            ["user_id"] = [.. Enumerable.Range(0, rows).Select(i => (object)(long)i)],
            ["event_timestamp"] = [.. Enumerable.Range(0, rows).Select(_ => (object)"2026-01-01T00:00:00Z")],
            ["age"] = [.. Enumerable.Range(0, rows).Select(i => (object)(20.0 + (i % 50)))],
            ["income"] = [.. Enumerable.Range(0, rows).Select(i => (object)(1000.0 * i))],
        },
        to,
    };

    private static object Messages(int count) => new
    {
        messages = Enumerable.Range(0, count).Select(i => $"full-{i}").Select(id => new
        {
            id, key = id, target_group = (string?)null,
            @event = new { specversion = "1.0", id, type = "com.example.full", source = "/full", datacontenttype = "application/json", data = new { padding = new string('p', 2000) } },
        }),
    };

    /// <summary>Takes every byte left on the file system.</summary>
    private static void Fill(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        var chunk = new byte[1 << 20];
        try
        {
            while (true)
            {
                stream.Write(chunk);
                stream.Flush(flushToDisk: true);
            }
        }
        catch (IOException)
        {
        }
        try
        {
            while (true)
            {
                stream.Write(chunk, 0, 4096);
                stream.Flush(flushToDisk: true);
            }
        }
        catch (IOException)
        {
        }
    }

    private static int Run(string file, params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            using var process = Process.Start(start)!;
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }

    public async Task DisposeAsync()
    {
        _http?.Dispose();
        _broker?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (_mounted)
        {
            Run("umount", "-l", Data);
        }
        _folder.Dispose();
    }
}
