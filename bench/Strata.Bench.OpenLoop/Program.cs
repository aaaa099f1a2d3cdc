using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

// An open-loop load generator (what wrk2 does; wrk's closed loop turns a saturated server's p50 into queueing): sends
// requests at a fixed rate whatever the answers' latency, each on its own task, and reports the latency of each from the
// moment it was sent. Requests are fired in 1 ms ticks (a timer tick, not a spinning core: the server under test has
// only two); a tick that comes late fires every request due, so the rate holds.
// The first WARMUP seconds (3) run at the same rate and are not counted: connections, JIT and pools settle.
// Usage: open-loop URL RATE SECONDS BODY [CONNECTIONS] [WARMUP]   (the key from STRATA_API_KEY)  -> one JSON line on stdout
if (args.Length < 4)
{
    Console.Error.WriteLine("usage: open-loop URL RATE SECONDS BODY [CONNECTIONS]");
    return 2;
}
var url = new Uri(args[0]);
var rate = double.Parse(args[1], CultureInfo.InvariantCulture);
var seconds = double.Parse(args[2], CultureInfo.InvariantCulture);
var body = Encoding.UTF8.GetBytes(args[3]);
var connections = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 64;
var warmup = args.Length > 5 ? double.Parse(args[5], CultureInfo.InvariantCulture) : 3;
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
{
    Timeout = TimeSpan.FromSeconds(10),
};
if (Environment.GetEnvironmentVariable("STRATA_API_KEY") is { Length: > 0 } key)
{
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
}
var skipped = (int)(rate * warmup);
var total = skipped + (int)(rate * seconds);
var latencies = new double[total];
var failed = 0;
var errors = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();

async Task SendAsync(int i)
{
    var started = Stopwatch.GetTimestamp();
    try
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(url, content);
        await response.Content.LoadIntoBufferAsync();
        if (!response.IsSuccessStatusCode && i >= skipped)
        {
            Interlocked.Increment(ref failed);
            errors.AddOrUpdate(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
        }
    }
    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
    {
        if (i >= skipped)
        {
            Interlocked.Increment(ref failed);
            errors.AddOrUpdate(e.GetType().Name, 1, (_, n) => n + 1);
        }
    }
    latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}

var pending = new List<Task>(total);
var clock = Stopwatch.StartNew();
var sent = 0;
using (var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(1)))
{
    while (sent < total)
    {
        var due = Math.Min(total, (int)(clock.Elapsed.TotalSeconds * rate) + 1);
        while (sent < due)
        {
            pending.Add(SendAsync(sent++));
        }
        await timer.WaitForNextTickAsync();
    }
}
var sending = clock.Elapsed.TotalSeconds - warmup;
await Task.WhenAll(pending);
latencies = latencies[skipped..];
total -= skipped;
Array.Sort(latencies);
double Percentile(double p) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p / 100 * latencies.Length) - 1)];
Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["url"] = url.ToString(),
    ["rate"] = rate,
    ["achieved_rate"] = Math.Round(total / sending, 1),
    ["requests"] = total,
    ["failed"] = failed,
    ["errors"] = errors,
    ["p50_ms"] = Math.Round(Percentile(50), 3),
    ["p90_ms"] = Math.Round(Percentile(90), 3),
    ["p99_ms"] = Math.Round(Percentile(99), 3),
    ["p999_ms"] = Math.Round(Percentile(99.9), 3),
    ["max_ms"] = Math.Round(latencies[^1], 3),
}));
return 0;
