using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Strata.Testing;

/// <summary>A real <c>prometheus</c> (Debian package; the binary with a temporary config, not the system service) on a
/// free loopback port, scraping one target every second with a bearer key, exemplar storage on (see
/// <see cref="ServerProcess"/>).</summary>
public sealed class PrometheusServer : ServerProcess
{
    public const string InstallHint = "prometheus is not installed: apt-get install -y prometheus";

    private readonly Uri _target;
    private readonly string _key;

    private PrometheusServer(string executable, int port, Uri target, string key) : base(executable, port)
    {
        _target = target;
        _key = key;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Http { get; }

    /// <summary>Null when prometheus is not installed (and not under CI).</summary>
    public static async Task<PrometheusServer?> StartAsync(Uri target, string key)
    {
        var executable = Find("prometheus", InstallHint);
        return executable is null ? null : await StartOnFreePortAsync(port => new PrometheusServer(executable, port, target, key));
    }

    /// <summary>promtool (same package), or null when it is not installed (and not under CI).</summary>
    public static string? Promtool() => Find("promtool", InstallHint);

    protected override Task PrepareAsync()
    {
        File.WriteAllText(Path.Combine(Folder.Path, "key"), _key);
        File.WriteAllText(Path.Combine(Folder.Path, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 900ms
            scrape_configs:
              - job_name: strata
                metrics_path: /metrics
                authorization:
                  type: Bearer
                  credentials_file: {Path.Combine(Folder.Path, "key")}
                static_configs:
                  - targets: ['{_target.Authority}']
            """);
        return Task.CompletedTask;
    }

    protected override IEnumerable<string> Arguments() =>
    [
        $"--config.file={Path.Combine(Folder.Path, "prometheus.yml")}",
        $"--storage.tsdb.path={Path.Combine(Folder.Path, "data")}",
        $"--web.listen-address=127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}",
        "--enable-feature=exemplar-storage",
        "--log.level=warn",
    ];

    protected override async Task<bool> IsReadyAsync(NetworkStream stream)
    {
        await stream.WriteAsync("GET /-/ready HTTP/1.0\r\n\r\n"u8.ToArray());
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, read).Contains(" 200 ", StringComparison.Ordinal);
    }

    /// <summary>An instant PromQL query: each result's labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        using var response = await Http.GetAsync(new Uri($"api/v1/query?query={Uri.EscapeDataString(promql)}", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        if (json.RootElement.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"{promql}: {body}");
        }
        return [.. json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().Select(r => (
            (IReadOnlyDictionary<string, string>)r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
            double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))];
    }

    /// <summary>The exemplars Prometheus stored for a selector over the last <paramref name="window"/>: their labels.</summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, string>>> ExemplarsAsync(string selector, TimeSpan window)
    {
        var end = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var start = end - (long)window.TotalSeconds;
        using var response = await Http.GetAsync(new Uri(
            $"api/v1/query_exemplars?query={Uri.EscapeDataString(selector)}&start={start}&end={end + 1}", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        if (json.RootElement.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"{selector}: {body}");
        }
        return [.. json.RootElement.GetProperty("data").EnumerateArray()
            .SelectMany(series => series.GetProperty("exemplars").EnumerateArray())
            .Select(e => (IReadOnlyDictionary<string, string>)e.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""))];
    }
}
