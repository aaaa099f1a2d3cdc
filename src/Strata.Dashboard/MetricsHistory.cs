using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.ServiceDefaults.Telemetry;

namespace Strata.Dashboard;

/// <summary>The dashboard's charts over time: every <see cref="DashboardOptions.SampleInterval"/> it reads the front
/// door's own <c>/metrics</c> exposition (<see cref="MetricsScrape"/>: the process's in the monolith, every process's
/// merged at the gateway of the microservices topology) and keeps the totals it charts, for the last
/// <see cref="DashboardOptions.Samples"/> samples. The same numbers a Prometheus scrape reads, so the dashboard and
/// Grafana agree; no Prometheus is needed to see them.</summary>
public sealed partial class MetricsHistory(MetricsScrape scrape, IOptions<DashboardOptions> options, TimeProvider time, ILogger<MetricsHistory> logger)
    : BackgroundService
{
    private readonly object _gate = new();
    private readonly List<MetricsSample> _samples = [];

    public IReadOnlyList<MetricsSample> Samples
    {
        get
        {
            lock (_gate)
            {
                return [.. _samples];
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SampleInterval, time);
        do
        {
            try
            {
                await SampleAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSampleFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Reads the exposition once and keeps its sample.</summary>
    public async Task SampleAsync(CancellationToken cancellationToken)
    {
        if (await scrape.ScrapeAsync(cancellationToken) is not { } text)
        {
            return;
        }
        var sample = MetricsSample.Parse(text, time.GetUtcNow());
        lock (_gate)
        {
            _samples.Add(sample);
            if (_samples.Count > options.Value.Samples)
            {
                _samples.RemoveRange(0, _samples.Count - options.Value.Samples);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "dashboard metrics not sampled: {Reason}")]
    private static partial void LogSampleFailed(ILogger logger, string reason);
}

/// <summary>The totals of one scrape the dashboard charts: front-door requests (all, 5xx, and the duration histogram's
/// cumulative buckets), online-store lookups by view and outcome, and rows scored by model.</summary>
public sealed class MetricsSample
{
    private const string Duration = "http_server_request_duration_seconds";
    private const string Lookups = "strata_features_online_lookups_total";
    private const string Predictions = "strata_serving_predictions_total";

    public required DateTimeOffset Time { get; init; }

    public double Requests { get; private set; }

    public double Errors { get; private set; }

    /// <summary>Cumulative request counts by upper bound (seconds; +Inf last).</summary>
    public SortedDictionary<double, double> Buckets { get; } = [];

    /// <summary>(view, status) to lookups.</summary>
    public Dictionary<(string View, string Status), double> FeatureLookups { get; } = [];

    /// <summary>model to rows scored.</summary>
    public Dictionary<string, double> ModelPredictions { get; } = new(StringComparer.Ordinal);

    /// <summary>Keeps what the dashboard charts from a Prometheus text exposition. Requests are the front door's: in a
    /// federated exposition only the gateway's (label <c>strata_process</c>), and neither health, metrics nor the
    /// dashboard's own assets.</summary>
    public static MetricsSample Parse(string exposition, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(exposition);
        var sample = new MetricsSample { Time = time };
        foreach (var raw in exposition.AsSpan().EnumerateLines())
        {
            var line = raw.Trim();
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }
            if (line.StartsWith(Duration))
            {
                sample.AddDuration(line);
            }
            else if (line.StartsWith(Lookups) && Read(line, out _, out var labels, out var value)
                && labels.TryGetValue("view", out var view) && labels.TryGetValue("status", out var status))
            {
                sample.FeatureLookups[(view, status)] = sample.FeatureLookups.GetValueOrDefault((view, status)) + value;
            }
            else if (line.StartsWith(Predictions) && Read(line, out _, out labels, out value) && labels.TryGetValue("model", out var model))
            {
                sample.ModelPredictions[model] = sample.ModelPredictions.GetValueOrDefault(model) + value;
            }
        }
        return sample;
    }

    private void AddDuration(ReadOnlySpan<char> line)
    {
        if (!Read(line, out var name, out var labels, out var value)
            || (labels.TryGetValue("strata_process", out var process) && process != "gateway")
            || (labels.TryGetValue("http_route", out var route) && (route.StartsWith("/health", StringComparison.Ordinal)
                || route == StrataTelemetry.MetricsPath || route.StartsWith(DashboardRoutes.Assets, StringComparison.Ordinal))))
        {
            return;
        }
        if (name == Duration + "_count")
        {
            Requests += value;
            if (labels.TryGetValue("http_response_status_code", out var code) && code.Length == 3 && code[0] == '5')
            {
                Errors += value;
            }
        }
        else if (name == Duration + "_bucket" && labels.TryGetValue("le", out var le))
        {
            var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
            Buckets[bound] = Buckets.GetValueOrDefault(bound) + value;
        }
    }

    /// <summary>One sample line: <c>name{label="value",...} value [timestamp]</c>.</summary>
    internal static bool Read(ReadOnlySpan<char> line, out string name, out Dictionary<string, string> labels, out double value)
    {
        labels = new Dictionary<string, string>(StringComparer.Ordinal);
        value = 0;
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }
        name = line[..i].ToString();
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (i < line.Length && line[i] != '}')
            {
                var eq = line[i..].IndexOf('=');
                if (eq < 0 || i + eq + 1 >= line.Length || line[i + eq + 1] != '"')
                {
                    return false;
                }
                var key = line.Slice(i, eq).Trim().ToString();
                i += eq + 2;
                var text = new System.Text.StringBuilder();
                while (i < line.Length && line[i] != '"')
                {
                    if (line[i] == '\\' && i + 1 < line.Length)
                    {
                        i++;
                        text.Append(line[i] == 'n' ? '\n' : line[i]);
                    }
                    else
                    {
                        text.Append(line[i]);
                    }
                    i++;
                }
                labels[key] = text.ToString();
                i++;
                if (i < line.Length && line[i] == ',')
                {
                    i++;
                }
            }
            i++;
        }
        if (i >= line.Length)
        {
            return false;
        }
        var rest = line[i..].Trim();
        var space = rest.IndexOf(' ');
        var number = space < 0 ? rest : rest[..space];
        return number switch
        {
            "+Inf" => (value = double.PositiveInfinity) > 0,
            "-Inf" => (value = double.NegativeInfinity) < 0,
            "NaN" => (value = double.NaN) is double.NaN,
            _ => double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out value),
        };
    }
}

/// <summary>Rates between consecutive samples: what the charts draw.</summary>
public static class MetricsRates
{
    /// <summary>Requests per second, 5xx share (%), and p99 (ms) from the buckets' increase, per interval; an interval
    /// without requests has no error share nor p99 (null: a gap in the chart).</summary>
    public static (long[] Times, double?[] Rate, double?[] ErrorPercent, double?[] P99Ms) Red(IReadOnlyList<MetricsSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var n = Math.Max(0, samples.Count - 1);
        var (times, rate, errors, p99) = (new long[n], new double?[n], new double?[n], new double?[n]);
        for (var k = 0; k < n; k++)
        {
            var (a, b) = (samples[k], samples[k + 1]);
            times[k] = b.Time.ToUnixTimeSeconds();
            var seconds = (b.Time - a.Time).TotalSeconds;
            var requests = Increase(a.Requests, b.Requests);
            rate[k] = seconds > 0 ? requests / seconds : null;
            if (requests > 0)
            {
                errors[k] = 100 * Increase(a.Errors, b.Errors) / requests;
                p99[k] = Quantile(a.Buckets, b.Buckets, 0.99) * 1000;
            }
        }
        return (times, rate, errors, p99);
    }

    /// <summary>Per key, the increase per second between consecutive samples.</summary>
    public static (long[] Times, Dictionary<TKey, double?[]> Series) PerSecond<TKey>(IReadOnlyList<MetricsSample> samples, Func<MetricsSample, IReadOnlyDictionary<TKey, double>> select)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(select);
        var n = Math.Max(0, samples.Count - 1);
        var times = new long[n];
        var series = new Dictionary<TKey, double?[]>();
        foreach (var key in samples.SelectMany(s => select(s).Keys).Distinct())
        {
            series[key] = new double?[n];
        }
        for (var k = 0; k < n; k++)
        {
            var (a, b) = (select(samples[k]), select(samples[k + 1]));
            times[k] = samples[k + 1].Time.ToUnixTimeSeconds();
            var seconds = (samples[k + 1].Time - samples[k].Time).TotalSeconds;
            foreach (var (key, values) in series)
            {
                values[k] = seconds > 0 ? Increase(a.GetValueOrDefault(key), b.GetValueOrDefault(key)) / seconds : null;
            }
        }
        return (times, series);
    }

    /// <summary>A counter's increase; a smaller value is a restarted process counting from zero again.</summary>
    public static double Increase(double before, double after) => after >= before ? after - before : after;

    /// <summary>The q-quantile of the observations between two cumulative histograms, interpolated linearly within its
    /// bucket (as PromQL's <c>histogram_quantile</c>); null without observations.</summary>
    public static double? Quantile(SortedDictionary<double, double> before, SortedDictionary<double, double> after, double q)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var bounds = after.Keys.ToList();
        if (bounds.Count == 0)
        {
            return null;
        }
        var increases = bounds.Select(b => Increase(before.GetValueOrDefault(b), after[b])).ToList();
        var total = increases[^1];
        if (total <= 0)
        {
            return null;
        }
        var rank = q * total;
        for (var i = 0; i < bounds.Count; i++)
        {
            if (increases[i] >= rank)
            {
                if (double.IsPositiveInfinity(bounds[i]))
                {
                    return i > 0 ? bounds[i - 1] : null;
                }
                var (lower, below) = i > 0 ? (bounds[i - 1], increases[i - 1]) : (0.0, 0.0);
                var inBucket = increases[i] - below;
                return inBucket <= 0 ? bounds[i] : lower + ((bounds[i] - lower) * (rank - below) / inBucket);
            }
        }
        return bounds[^1];
    }
}
