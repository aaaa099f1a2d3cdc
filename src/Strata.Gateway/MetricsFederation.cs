using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Strata.ServiceDefaults.Telemetry;

namespace Strata.Gateway;

/// <summary>The gateway's <c>/metrics</c> in the microservices topology: its own scrape and every module replica's, one
/// exposition, each sample labelled <c>strata_process</c> (<c>gateway</c>, <c>serving.2</c>...), plus
/// <c>strata_process_up</c> per process. One target, one key and one address serve every topology: the modules listen
/// on mutual TLS for Strata's own certificates only, so a Prometheus outside could not scrape them without a
/// certificate of the Strata CA; and replicas come and go with <c>--replicas</c> without a scrape config change.</summary>
public sealed partial class MetricsFederation(IHttpClientFactory clients, ModuleDirectory modules, ILogger<MetricsFederation> logger)
{
    public const string ClientName = "gateway-metrics";
    public const string ProcessLabel = "strata_process";

    /// <summary>How long a module's scrape may take before it counts as down for this scrape.</summary>
    public static readonly TimeSpan ScrapeTimeout = TimeSpan.FromSeconds(5);

    public static IEndpointConventionBuilder MapMetricsFederation(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var self = StrataTelemetry.ProcessScrape(app);
        var federation = app.ServiceProvider.GetRequiredService<MetricsFederation>();
        app.ServiceProvider.GetRequiredService<MetricsScrape>().Use(ct => federation.ScrapeAllAsync(app.ServiceProvider, self, string.Empty, ct)!);
        return StrataTelemetry.WithMetricsAccess(app.MapGet(StrataTelemetry.MetricsPath, (HttpContext context) => federation.WriteAsync(context, self)));
    }

    public async Task WriteAsync(HttpContext context, RequestDelegate self)
    {
        ArgumentNullException.ThrowIfNull(context);
        var accept = context.Request.Headers.Accept.ToString();
        var openMetrics = accept.Contains("application/openmetrics-text", StringComparison.OrdinalIgnoreCase);
        var merged = await ScrapeAllAsync(context.RequestServices, self, accept, context.RequestAborted);
        context.Response.ContentType = openMetrics
            ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
            : "text/plain; version=0.0.4; charset=utf-8";
        await context.Response.WriteAsync(merged, context.RequestAborted);
    }

    /// <summary>The merged exposition of the gateway (<paramref name="self"/>) and every module replica.</summary>
    public async Task<string> ScrapeAllAsync(IServiceProvider services, RequestDelegate self, string accept, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(self);
        var openMetrics = accept.Contains("application/openmetrics-text", StringComparison.OrdinalIgnoreCase);
        var own = StrataTelemetry.ScrapeSelfAsync(services, self, accept);
        var remote = modules.Urls.SelectMany(m => m.Value.Select((url, i) => (Process: ProxiedModule.ReplicaName(m.Key, i + 1), Url: url)))
            .Select(async p => (p.Process, Text: await ScrapeAsync(p.Url, accept, cancellationToken)))
            .ToList();
        var scrapes = new List<(string Process, string? Text)> { ("gateway", await own) };
        scrapes.AddRange(await Task.WhenAll(remote));
        var merged = new ExpositionMerger(openMetrics);
        foreach (var (process, text) in scrapes)
        {
            if (text is not null)
            {
                merged.Add(process, text);
            }
        }
        merged.AddGauge("strata_process_up", "Whether the gateway could scrape the process (1) or not (0)",
            scrapes.Select(s => (s.Process, s.Text is null ? 0.0 : 1.0)));
        return merged.ToString();
    }

    private async Task<string?> ScrapeAsync(Uri module, string accept, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ScrapeTimeout);
        try
        {
            using var http = clients.CreateClient(ClientName);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(module, StrataTelemetry.MetricsPath));
            if (accept.Length > 0)
            {
                request.Headers.TryAddWithoutValidation("Accept", accept);
            }
            using var response = await http.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                LogScrapeFailed(logger, module, $"status {(int)response.StatusCode}");
                return null;
            }
            return await response.Content.ReadAsStringAsync(timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogScrapeFailed(logger, module, e.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "metrics of {Module} not scraped: {Reason}")]
    private static partial void LogScrapeFailed(ILogger logger, Uri module, string reason);
}
