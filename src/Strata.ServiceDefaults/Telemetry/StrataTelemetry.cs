using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Strata.Contracts;
using Strata.ServiceDefaults.Security;

namespace Strata.ServiceDefaults.Telemetry;

/// <summary>OpenTelemetry for a Strata process: metrics from Strata's meters, ASP.NET Core, Kestrel, HttpClient and the
/// runtime, served at <c>/metrics</c> in Prometheus text or OpenMetrics (with exemplars linking a bucket to a trace);
/// traces across incoming HTTP, outgoing HTTP (so module-to-module calls continue a trace), the event bus (the
/// <c>traceparent</c> travels inside each CloudEvent) and Strata's own spans, exported over OTLP when configured.</summary>
public static class StrataTelemetry
{
    /// <summary>Every Strata meter and activity source is named <c>Strata.*</c>.</summary>
    public const string SourcePattern = "Strata.*";

    public const string MetricsPath = "/metrics";

    /// <summary>Histogram boundaries for durations in seconds: fine below a millisecond (scoring takes tens of
    /// microseconds), coarse up to a minute (training calls, slow scrapes). p99 from <c>histogram_quantile</c> is only as
    /// good as the buckets around it.</summary>
    public static readonly double[] SecondsBuckets =
        [0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    /// <summary>Meters of the platform Strata runs on that are exported with Strata's own.</summary>
    private static readonly string[] PlatformMeters =
        ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.RateLimiting", "Microsoft.AspNetCore.Diagnostics"];

    /// <summary>Adds metrics and (when configured) tracing. <paramref name="processName"/> names this process in the
    /// resource (<c>service.instance.id</c>) and so in every exported span.</summary>
    public static IServiceCollection AddStrataTelemetry(this IServiceCollection services, IConfiguration configuration, string processName)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new TelemetryOptions();
        configuration.GetSection(TelemetryOptions.Section).Bind(options);
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<MetricsScrape>();
        if (!options.Metrics && !options.TracingEnabled)
        {
            return services;
        }
        var telemetry = services.AddOpenTelemetry().ConfigureResource(r => r
            .AddService("strata", serviceVersion: typeof(StrataTelemetry).Assembly.GetName().Version?.ToString(), serviceInstanceId: processName));
        if (options.Metrics)
        {
            telemetry.WithMetrics(m => m
                .AddMeter(SourcePattern)
                .AddMeter(PlatformMeters)
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                // .NET names four gauges "*.count", which Prometheus reserves for histograms and summaries (promtool
                // check metrics refuses them): exported under plural names instead.
                .AddView("dotnet.assembly.count", "dotnet.assemblies")
                .AddView("dotnet.process.cpu.count", "dotnet.process.cpus")
                .AddView("dotnet.thread_pool.thread.count", "dotnet.thread_pool.threads")
                .AddView("dotnet.timer.count", "dotnet.timers")
                // Durations in seconds get Strata's buckets (ASP.NET Core's own start at 5 ms), unless a Strata instrument
                // advises its own (ages of feature rows run to days).
                .AddView(instrument => instrument is Histogram<double> { Unit: "s" } h
                    && !(h.Meter.Name.StartsWith("Strata.", StringComparison.Ordinal) && h.Advice?.HistogramBucketBoundaries is not null)
                    ? new ExplicitBucketHistogramConfiguration { Boundaries = SecondsBuckets }
                    : null)
                // An exemplar is kept only for a measurement made inside a recorded span: it then names a trace that exists.
                .SetExemplarFilter(ExemplarFilterType.TraceBased)
                // Each scrape sees what happened up to it (the default caches a scrape for 300 ms).
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        }
        if (options.TracingEnabled)
        {
            telemetry.WithTracing(t =>
            {
                t.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.SampleRatio)))
                    .AddSource(SourcePattern)
                    .AddSource("Npgsql")
                    .AddAspNetCoreInstrumentation(o => o.Filter = c => !IsPlumbing(c.Request.Path))
                    .AddHttpClientInstrumentation(o => o.FilterHttpRequestMessage = r => r.RequestUri is null || !IsPlumbing(r.RequestUri.AbsolutePath));
                if (options.Endpoint is { } endpoint)
                {
                    t.AddOtlpExporter(o =>
                    {
                        var http = options.Protocol == "http/protobuf";
                        o.Protocol = http ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                        // Given explicitly, the endpoint is used as is: the HTTP exporter needs the signal's path.
                        o.Endpoint = http && endpoint.AbsolutePath == "/" ? new Uri(endpoint, "v1/traces") : endpoint;
                    });
                }
            });
        }
        return services;
    }

    /// <summary>Health probes and scrapes: polled all the time, never worth a span.</summary>
    private static bool IsPlumbing(string path) =>
        path.StartsWith("/health/", StringComparison.Ordinal) || path.Equals(MetricsPath, StringComparison.Ordinal);

    /// <summary>Serves this process's metrics at <c>/metrics</c> for the permission <c>read-metrics</c>; over mutual TLS
    /// only the gateway (which federates every process's metrics) may ask.</summary>
    public static IEndpointConventionBuilder MapProcessMetrics(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var self = ProcessScrape(app);
        app.ServiceProvider.GetRequiredService<MetricsScrape>().Use(_ => ScrapeSelfAsync(app.ServiceProvider, self, string.Empty));
        // GET only (the exporter's own mapping answered every method): anything else is routing's 405.
        return WithMetricsAccess(app.MapGet(MetricsPath, (HttpContext context) => self(context)));
    }

    /// <summary>The authorization-table row of <c>GET /metrics</c>, on whichever endpoint serves it.</summary>
    public static IEndpointConventionBuilder WithMetricsAccess(IEndpointConventionBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithMetadata(new AccessRule(Permissions.ReadMetrics, $"GET {MetricsPath}"))
            .WithMetadata(new CallerRule(new HashSet<string>([ModuleNames.Gateway], StringComparer.Ordinal), $"GET {MetricsPath}"))
            .ExcludeFromDescription();
    }

    /// <summary>A request delegate that writes this process's own scrape (no route: the gateway's federation calls it).</summary>
    public static RequestDelegate ProcessScrape(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var branch = app.CreateApplicationBuilder();
        branch.UseOpenTelemetryPrometheusScrapingEndpoint(meterProvider: null, predicate: _ => true, path: null, configureBranchedPipeline: null, optionsName: null);
        return branch.Build();
    }

    /// <summary>This process's own scrape, written by <paramref name="self"/> (<see cref="ProcessScrape"/>) into memory;
    /// null if it did not answer 200.</summary>
    public static async Task<string?> ScrapeSelfAsync(IServiceProvider services, RequestDelegate self, string accept)
    {
        ArgumentNullException.ThrowIfNull(self);
        var inner = new DefaultHttpContext { RequestServices = services };
        inner.Request.Method = HttpMethods.Get;
        inner.Request.Path = MetricsPath;
        inner.Request.Headers.Accept = accept;
        using var body = new MemoryStream();
        inner.Response.Body = body;
        await self(inner);
        return inner.Response.StatusCode == StatusCodes.Status200OK ? System.Text.Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length) : null;
    }
}

/// <summary>What <c>GET /metrics</c> of this front door would answer (the process's scrape; at the gateway of the
/// microservices topology, every process's, merged), for readers inside the process (the dashboard's charts). Empty
/// until the host wires it, and when metrics are off.</summary>
public sealed class MetricsScrape
{
    private Func<CancellationToken, Task<string?>>? _scrape;

    public void Use(Func<CancellationToken, Task<string?>> scrape) => _scrape = scrape;

    public bool Available => _scrape is not null;

    /// <summary>The exposition in Prometheus text format, or null when metrics are not available.</summary>
    public Task<string?> ScrapeAsync(CancellationToken cancellationToken) => _scrape?.Invoke(cancellationToken) ?? Task.FromResult<string?>(null);
}

