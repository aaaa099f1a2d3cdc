// Offline feature-store benchmarks, each against its limit measured in the same run:
//   historical: point-in-time retrieval of ENTITIES entity rows against ROWS feature rows (KEYS entities), dataset in,
//               dataset out, through the Features module; limit: the raw DuckDB ASOF LEFT JOIN of the same files.
//   materialize: MATERIALIZE distinct entities' rows from the offline store into the online store (embedded, and Redis
//               when --redis is given), through the Materializer the HTTP endpoint runs.
// Prints one JSON object. Usage: feature-store-bench [--entities N] [--rows N] [--keys N] [--materialize N (Redis)]
//   [--materialize-embedded N] [--redis host:port]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using Strata.Contracts.Data;
using Strata.Contracts.Features;
using Strata.Features.Offline;
using Strata.Features.Views;
using Strata.Testing;
using Strata.Samples;

if (args.Length > 0 && args[0] == "paced")
{
    return await PacedAsync(args);
}
var options = Args(args);
long entities = options.GetValueOrDefault("entities", 1_000_000), rows = options.GetValueOrDefault("rows", 10_000_000),
    keys = options.GetValueOrDefault("keys", 100_000), materialize = options.GetValueOrDefault("materialize", 10_000_000),
    materializeEmbedded = options.GetValueOrDefault("materialize-embedded", 1_000_000);
var redis = args.SkipWhile(a => a != "--redis").Skip(1).FirstOrDefault();
var report = new Dictionary<string, object?>
{
    ["entities"] = entities, ["feature_rows"] = rows, ["feature_keys"] = keys, ["materialize_rows"] = materialize,
    ["processors"] = Environment.ProcessorCount,
};

await using (var modules = await InProcessModules.StartAsync())
{
    var offline = modules.Get<OfflineStore>();
    var work = Path.Combine(modules.Folder.Path, "bench");
    Directory.CreateDirectory(work);
    var featureFile = Path.Combine(offline.ViewDirectory(SampleFeatureRepository.CardProfile.Name), "bench.parquet");
    Directory.CreateDirectory(Path.GetDirectoryName(featureFile)!);
    var entityFile = Path.Combine(work, "entities.parquet");
    using (var db = new DuckDBConnection("Data Source=:memory:"))
    {
        db.Open();
        var clock = Stopwatch.StartNew();
        // Same schema as the offline store writes for card_profile; times spread over 90 days, some exact duplicates
        // of (card, time) with a later created time, so the tie-break is exercised.
        Execute(db, $"""
            COPY (SELECT 'card' || (i % {keys}) AS card_id,
                         TIMESTAMP '2026-01-01' + to_microseconds(CAST((hash(i) % 7776000) AS BIGINT) * 1000000) AS event_timestamp,
                         TIMESTAMP '2026-04-01' + to_microseconds(i) AS created_timestamp,
                         CAST(hash(i * 3) % 100000 AS DOUBLE) AS credit_limit, CAST(hash(i * 5) % 3650 AS BIGINT) AS account_age_days,
                         CASE hash(i) % 3 WHEN 0 THEN 'DE' WHEN 1 THEN 'FR' ELSE 'US' END AS country, hash(i) % 7 = 0 AS is_business
                  FROM range({rows}) t(i)) TO '{featureFile}' (FORMAT parquet)
            """);
        Execute(db, $"""
            COPY (SELECT 'card' || (hash(i * 11) % {keys + keys / 20}) AS card_id,
                         TIMESTAMP '2026-01-15' + to_microseconds(CAST((hash(i * 13) % 7776000) AS BIGINT) * 1000000) AS event_timestamp,
                         CAST(hash(i) % 2 AS BIGINT) AS label
                  FROM range({entities}) t(i)) TO '{entityFile}' (FORMAT parquet)
            """);
        report["generate_seconds"] = clock.Elapsed.TotalSeconds;

        // The limit: DuckDB's ASOF LEFT JOIN of the same files, written as Parquet.
        clock.Restart();
        Execute(db, $"""
            COPY (SELECT e.*, f.credit_limit, f.account_age_days, f.country, f.is_business
                  FROM read_parquet('{entityFile}') e ASOF LEFT JOIN read_parquet('{featureFile}') f
                  ON e.card_id = f.card_id AND e.event_timestamp >= f.event_timestamp) TO '{Path.Combine(work, "raw.parquet")}' (FORMAT parquet)
            """);
        report["historical_raw_asof_seconds"] = clock.Elapsed.TotalSeconds;
    }

    var data = modules.Get<IDataClient>();
    DatasetVersion entityDataset;
    await using (var stream = File.OpenRead(entityFile))
    {
        entityDataset = await data.IngestParquetAsync("bench-entities", stream);
    }
    var features = modules.Get<IFeaturesClient>();
    var run = Stopwatch.StartNew();
    var result = await features.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest(EntityDatasetId: entityDataset.Id,
        Features: ["card_profile:credit_limit", "card_profile:account_age_days", "card_profile:country", "card_profile:is_business"],
        OutputDatasetName: "bench-training-set"));
    report["historical_strata_seconds"] = run.Elapsed.TotalSeconds;
    report["historical_strata_rows"] = result.Rows;
    report["historical_ratio_to_raw"] = run.Elapsed.TotalSeconds / (double)report["historical_raw_asof_seconds"]!;
}

report["materialize_embedded"] = await MaterializeAsync(materializeEmbedded, null);
if (redis is not null)
{
    report["materialize_redis"] = await MaterializeAsync(materialize, redis);
}
Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
return 0;

static async Task<Dictionary<string, object?>> MaterializeAsync(long count, string? redis)
{
    var configuration = redis is null ? null : new Dictionary<string, string?>
    {
        ["Strata:Features:OnlineStore"] = "redis",
        ["Strata:Features:Redis"] = redis,
        ["Strata:Features:RedisKeyPrefix"] = $"bench{Guid.NewGuid():N}:",
    };
    await using var modules = await InProcessModules.StartAsync(configuration: configuration);
    var offline = modules.Get<OfflineStore>();
    var file = Path.Combine(offline.ViewDirectory(SampleFeatureRepository.UserProfile.Name), "bench.parquet");
    Directory.CreateDirectory(Path.GetDirectoryName(file)!);
    using (var db = new DuckDBConnection("Data Source=:memory:"))
    {
        db.Open();
        Execute(db, $"""
            COPY (SELECT i AS user_id, TIMESTAMP '2026-06-01' + to_microseconds(i) AS event_timestamp, TIMESTAMP '2026-06-02' AS created_timestamp,
                         CAST(18 + i % 70 AS DOUBLE) AS age, CAST(hash(i) % 200000 AS DOUBLE) AS income
                  FROM range({count}) t(i)) TO '{file}' (FORMAT parquet)
            """);
    }
    var features = modules.Get<IFeaturesClient>();
    var clock = Stopwatch.StartNew();
    var result = await features.MaterializeAsync(new MaterializeRequest("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", ["user_profile"]));
    var seconds = clock.Elapsed.TotalSeconds;
    var rows = result.Views.Single().Rows;
    var check = await features.GetOnlineFeaturesAsync(new OnlineFeaturesRequest(new FeatureColumns { ["user_id"] = [count - 1] }, ["user_profile:age"]));
    return new Dictionary<string, object?>
    {
        ["store"] = redis is null ? "embedded" : "redis",
        ["rows"] = rows,
        ["seconds"] = seconds,
        ["rows_per_second"] = rows / seconds,
        ["last_row_status"] = check.Results[1].Statuses[0],
    };
}

// paced URL BODY_FILE RATE SECONDS: one request every 1/RATE s (open loop, like Feast's published figures at 100 rps)
// over one kept-alive HTTP/1.1 connection written and read directly (no client library in the measured path), the
// client spinning until each send time so only the server's own latency is measured; prints p50/p99/max in ms.
static async Task<int> PacedAsync(string[] args)
{
    var url = new Uri(args[1]);
    var body = System.Text.Encoding.UTF8.GetBytes(await File.ReadAllTextAsync(args[2]));
    var rate = double.Parse(args[3], CultureInfo.InvariantCulture);
    var seconds = double.Parse(args[4], CultureInfo.InvariantCulture);
    // The key the bench script exported (Strata answers nothing without credentials).
    var authorization = Environment.GetEnvironmentVariable("STRATA_API_KEY") is { Length: > 0 } key ? $"Authorization: Bearer {key}\r\n" : "";
    var head = System.Text.Encoding.ASCII.GetBytes(
        $"POST {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nContent-Type: application/json\r\n{authorization}Content-Length: {body.Length}\r\n\r\n");
    byte[] request = [.. head, .. body];
    using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
    await socket.ConnectAsync(url.Host, url.Port);
    var buffer = new byte[1 << 22];
    double One()
    {
        var clock = Stopwatch.StartNew();
        socket.Send(request);
        int read = 0, headerEnd = -1, length = -1;
        var chunked = false;
        static bool EndsWithLastChunk(byte[] b, int n) =>
            n >= 5 && b[n - 5] == '0' && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n';
        while (headerEnd < 0 || (chunked ? !EndsWithLastChunk(buffer, read) : read < headerEnd + length))
        {
            var n = socket.Receive(buffer, read, buffer.Length - read, System.Net.Sockets.SocketFlags.None);
            if (n == 0)
            {
                throw new IOException("connection closed");
            }
            read += n;
            if (headerEnd < 0)
            {
                var text = System.Text.Encoding.ASCII.GetString(buffer, 0, Math.Min(read, 4096));
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0)
                {
                    if (!text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException(text.Split('\n')[0]);
                    }
                    headerEnd = end + 4;
                    var at = text.IndexOf("Content-Length:", StringComparison.OrdinalIgnoreCase);
                    if (at >= 0 && at < end)
                    {
                        length = int.Parse(text[(at + 15)..text.IndexOf('\r', at)].Trim(), CultureInfo.InvariantCulture);
                    }
                    else
                    {
                        chunked = true;
                    }
                }
            }
        }
        return clock.Elapsed.TotalMilliseconds;
    }
    for (var i = 0; i < 500; i++)
    {
        One();
    }
    var latencies = new List<double>();
    var interval = Stopwatch.Frequency / rate;
    var start = Stopwatch.GetTimestamp();
    var next = (double)start;
    while (Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
    {
        while (Stopwatch.GetTimestamp() < next)
        {
            Thread.SpinWait(20);
        }
        latencies.Add(One());
        next += interval;
    }
    latencies.Sort();
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        rate, requests = latencies.Count,
        p50_ms = latencies[latencies.Count / 2], p99_ms = latencies[(int)(latencies.Count * 0.99)], max_ms = latencies[^1],
    }));
    return 0;
}

static void Execute(DuckDBConnection db, string sql)
{
    using var command = db.CreateCommand();
    command.CommandText = sql;
    command.ExecuteNonQuery();
}

static Dictionary<string, long> Args(string[] args)
{
    var result = new Dictionary<string, long>(StringComparer.Ordinal);
    for (var i = 0; i + 1 < args.Length; i++)
    {
        if (args[i].StartsWith("--", StringComparison.Ordinal) && long.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            result[args[i][2..]] = value;
        }
    }
    return result;
}
