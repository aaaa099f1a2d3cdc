using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Strata.Contracts;
using Strata.Contracts.Data;
using Strata.Contracts.Features;
using Strata.Contracts.Registry;
using Strata.Contracts.Serving;
using Strata.Contracts.Training;
using Strata.Data;
using Strata.Events;
using Strata.Features;
using Strata.Gateway;
using Strata.Registry;
using Strata.Registry.Tracking;
using Strata.Contracts.Tracking;
using Strata.Serving;
using Strata.ServiceDefaults;
using Strata.Training;

namespace Strata.Cli.Hosting;

/// <summary>Builds a Strata process for any set of modules. A module hosted here gets its in-process client; a module
/// hosted elsewhere gets its HTTP client (with the standard resilience handler) at <c>Strata:Services:&lt;module&gt;</c>.
/// That choice is the whole difference between the topologies: module code is the same in both.</summary>
public static class StrataHost
{
    /// <summary>Which other modules' clients each module uses.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Dependencies { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        [ModuleNames.Events] = [],
        [ModuleNames.Data] = [],
        [ModuleNames.Features] = [ModuleNames.Data],
        [ModuleNames.Registry] = [],
        [ModuleNames.Training] = [ModuleNames.Data, ModuleNames.Features, ModuleNames.Registry],
        [ModuleNames.Serving] = [ModuleNames.Registry, ModuleNames.Features],
        [ModuleNames.Gateway] = [],
    };

    public static WebApplication Build(HostSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        foreach (var module in settings.Modules)
        {
            if (!ModuleNames.All.Contains(module))
            {
                throw new ArgumentException($"unknown module '{module}' (known: {string.Join(", ", ModuleNames.All)})");
            }
        }
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "strata",
            // Not the working directory: the host watches its content root for configuration changes, and a data
            // directory under it (SQLite WAL files, event log segments) kept a file-watch thread at 6.6% of the CPU.
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{StrataOptions.Section}:{nameof(StrataOptions.DataDirectory)}"] = settings.DataDirectory,
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            // With this category enabled, hosting opens a log scope and an Activity for every request even when nothing
            // listens; request tracing arrives with OpenTelemetry, which turns activities on where they are used.
            ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "None",
            ["Logging:LogLevel:Microsoft.Extensions.Http"] = "Warning",
            // HttpClientFactory logs two Information lines per request per handler: far too much for a hot path.
            ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
            ["Logging:LogLevel:Polly"] = "Warning",
            ["Logging:LogLevel:Yarp"] = "Warning",
            ["Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks"] = "None",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        });
        builder.Configuration.AddInMemoryCollection(settings.ServiceUrls.ToDictionary(p => $"Strata:Services:{p.Key}", p => (string?)p.Value));
        builder.Configuration.AddInMemoryCollection(settings.Configuration);
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.WebHost.UseKestrel(o =>
        {
            if (settings.ListenDescriptor is { } descriptor)
            {
                o.ListenHandle((ulong)descriptor);
            }
            else
            {
                o.Listen(IPAddress.Parse(settings.Bind), settings.Port);
            }
            o.AddServerHeader = false;
        });
        // Socket completions go straight to the thread pool instead of through Kestrel's own I/O queues (one per core by
        // default): one hand-off less per read and write. Measured on 2 cores with wrk at 32 connections (bench/serving.sh):
        // single-row infer p99 2.00-2.35 ms against 2.37-2.65 ms with the default, throughput unchanged within noise.
        // Strata:Kestrel:IOQueueCount sets it back (e.g. to the core count).
        var ioQueues = builder.Configuration.GetValue<int?>("Strata:Kestrel:IOQueueCount") ?? 0;
        builder.WebHost.UseSockets(o => o.IOQueueCount = Math.Max(0, ioQueues));

        var services = builder.Services;
        services.AddServiceDefaults();
        services.AddHostedService<ParentWatcher>();
        var remote = RemoteUrls(builder.Configuration, settings);
        // The embedded event log lives in the process hosting the Events module; the others reach it over HTTP
        // (NATS or Redis, when configured, are reached directly by every process).
        services.AddEventsModule($"/strata/{string.Join('+', settings.IsMonolith ? ["monolith"] : settings.Modules)}",
            hostsModule: settings.Hosts(ModuleNames.Events), embeddedLogUrl: remote.GetValueOrDefault(ModuleNames.Events));

        if (settings.Hosts(ModuleNames.Data)) { services.AddDataModule(); }
        if (settings.Hosts(ModuleNames.Features)) { services.AddFeaturesModule(); }
        if (settings.Hosts(ModuleNames.Registry)) { services.AddRegistryModule(); }
        if (settings.Hosts(ModuleNames.Training)) { services.AddTrainingModule(); }
        if (settings.Hosts(ModuleNames.Serving)) { services.AddServingModule(); }

        var needed = settings.Modules.SelectMany(m => Dependencies[m]).Where(d => !settings.Hosts(d)).Distinct().ToList();
        foreach (var module in needed)
        {
            var url = remote.GetValueOrDefault(module)
                ?? throw new ArgumentException($"module '{module}' is not hosted here; set Strata:Services:{module} (env Strata__Services__{module}) to its URL");
            AddRemoteClient(services, module, url);
        }

        var gatewayOnly = settings.Hosts(ModuleNames.Gateway) && !settings.IsMonolith;
        if (gatewayOnly)
        {
            var proxied = ModuleNames.Services.Where(m => !settings.Hosts(m)).ToDictionary(m => m,
                m => remote.GetValueOrDefault(m) ?? throw new ArgumentException($"the gateway needs Strata:Services:{m}"));
            services.AddGatewayModule(proxied);
        }

        var app = builder.Build();
        app.UseServiceDefaults();
        app.MapDefaultEndpoints();
        if (settings.Hosts(ModuleNames.Events)) { app.MapEventsApi(); }
        if (settings.Hosts(ModuleNames.Data)) { app.MapDataApi(); }
        if (settings.Hosts(ModuleNames.Features)) { app.MapFeaturesApi(); }
        if (settings.Hosts(ModuleNames.Registry)) { app.MapRegistryApi(); app.MapMlflowApi(); }
        if (settings.Hosts(ModuleNames.Training)) { app.MapTrainingApi(); }
        if (settings.Hosts(ModuleNames.Serving)) { app.MapServingApi(); }
        if (ModuleNames.Services.Any(settings.Hosts))
        {
            app.MapOpenApi("/openapi/{documentName}.json");
        }
        if (gatewayOnly)
        {
            app.MapGateway();
        }
        return app;
    }

    private static Dictionary<string, Uri> RemoteUrls(ConfigurationManager configuration, HostSettings settings)
    {
        var urls = new Dictionary<string, Uri>(StringComparer.Ordinal);
        foreach (var child in configuration.GetSection("Strata:Services").GetChildren())
        {
            if (child.Value is null || settings.Hosts(child.Key))
            {
                continue;
            }
            if (!Uri.TryCreate(child.Value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"Strata:Services:{child.Key} = '{child.Value}' is not an http(s) URL");
            }
            urls[child.Key] = uri;
        }
        return urls;
    }

    private static void AddRemoteClient(IServiceCollection services, string module, Uri url)
    {
        IHttpClientBuilder client = module switch
        {
            ModuleNames.Data => services.AddHttpClient<IDataClient, HttpDataClient>(c => c.BaseAddress = url),
            ModuleNames.Features => services.AddHttpClient<IFeaturesClient, HttpFeaturesClient>(c => c.BaseAddress = url),
            ModuleNames.Registry => services.AddHttpClient<IRegistryClient, HttpRegistryClient>(c => c.BaseAddress = url),
            ModuleNames.Training => services.AddHttpClient<ITrainingClient, HttpTrainingClient>(c =>
            {
                c.BaseAddress = url;
                c.Timeout = Timeout.InfiniteTimeSpan;
            }),
            ModuleNames.Serving => services.AddHttpClient<IServingClient, HttpServingClient>(c => c.BaseAddress = url),
            _ => throw new ArgumentException($"no HTTP client for module '{module}'"),
        };
        if (module == ModuleNames.Registry)
        {
            // The tracking half of the Registry, on its MLflow-compatible API.
            services.AddHttpClient<ITrackingClient, MlflowClient>(c => c.BaseAddress = url)
                .AddStandardResilienceHandler(o => o.Retry.DisableForUnsafeHttpMethods());
        }
        client.AddStandardResilienceHandler(o =>
        {
            if (module == ModuleNames.Training)
            {
                // A training call runs for as long as the training does; it is not retried (not idempotent).
                o.AttemptTimeout.Timeout = TimeSpan.FromMinutes(30);
                o.TotalRequestTimeout.Timeout = TimeSpan.FromMinutes(30);
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(61);
                o.Retry.ShouldHandle = _ => ValueTask.FromResult(false);
            }
            else if (module == ModuleNames.Registry)
            {
                // Registering a version is not idempotent: never resend a POST that may have landed.
                o.Retry.DisableForUnsafeHttpMethods();
            }
        });
    }
}
