using System.Globalization;
using Strata.Contracts;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Strata.Gateway;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Modules;
using Strata.ServiceDefaults.Security;
using Strata.ServiceDefaults.Telemetry;
using Strata.Security;

namespace Strata.Hosting;

/// <summary>Builds a Strata process for any set of modules. A module hosted here gets its in-process client; a module
/// hosted elsewhere gets its HTTP client (with the standard resilience handler) at <c>Strata:Services:&lt;module&gt;</c>.
/// That choice is the whole difference between the topologies: module code is the same in both.</summary>
public static class StrataHost
{
    public static WebApplication Build(HostSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.Catalog.Any(d => d.Name == ModuleNames.Security))
        {
            throw new ArgumentException($"the catalog has no '{ModuleNames.Security}' module: a Strata without it cannot authenticate anyone");
        }
        var known = HostSettings.ServeNames(settings.Catalog);
        foreach (var module in settings.Modules)
        {
            if (!known.Contains(module))
            {
                throw new ArgumentException($"unknown module '{module}' (known: {string.Join(", ", known)})");
            }
        }
        var builder = CreateBuilder(settings);
        var services = builder.Services;
        // Mutual TLS (the microservices topology): a module process listens with TLS only and requires a certificate of
        // the Strata CA; the gateway's front door stays the users' (plain HTTP, API keys), its calls to modules use TLS.
        var mtls = SecurityModule.CreateMutualTls(builder.Configuration, settings.DataDirectory, settings.IsMonolith ? null : settings.Modules.Count == 1 ? settings.Modules[0] : null);
        var inbound = mtls is not null && settings.Hosted.Any();
        builder.WebHost.UseKestrel(o =>
        {
            Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> listen = l =>
            {
                if (inbound)
                {
                    l.UseHttps(mtls!.ConfigureServer);
                }
            };
            if (settings.ListenDescriptor is { } descriptor)
            {
                o.ListenHandle((ulong)descriptor, listen);
            }
            else
            {
                o.Listen(IPAddress.Parse(settings.Bind), settings.Port, listen);
            }
            o.AddServerHeader = false;
        });
        if (mtls is not null)
        {
            services.AddSingleton(mtls);
            services.AddSingleton<IServiceTls>(mtls);
        }
        // Host names: a process listening on loopback answers loopback names only (DNS rebinding); the supervisor hands the
        // gateway its front socket and says where it is bound (--bind).
        services.AddSingleton(sp => new WebSafetyPolicy(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<WebOptions>>(), IPAddress.IsLoopback(IPAddress.Parse(settings.Bind))));
        services.AddServiceDefaults();
        services.AddStrataTelemetry(builder.Configuration, ProcessName(settings));
        services.AddHostedService<ParentWatcher>();
        var remote = RemoteUrls(builder.Configuration, settings);
        AddModules(services, builder.Configuration, settings, remote, inbound ? mtls : null);
        var gatewayOnly = settings.Hosts(HostSettings.Gateway) && !settings.IsMonolith;
        if (gatewayOnly)
        {
            var proxied = settings.Catalog.Where(d => !settings.Hosts(d.Name)).Select(d => new ProxiedModule(d.Name, [.. d.GatewayPatterns],
                remote.GetValueOrDefault(d.Name) ?? throw new ArgumentException($"the gateway needs Strata:Services:{d.Name}"), d.ErrorShapes, d.GatewayTimeout, d.IdempotentPosts)).ToList();
            services.AddGatewayModule(proxied, builder.Configuration);
        }

        var app = builder.Build();
        app.UseServiceDefaults();
        app.UseStrataAccess();
        app.MapDefaultEndpoints();
        var access = app.Services.GetRequiredService<AccessTable>();
        var callers = new ServiceCallTable(settings.Catalog);
        foreach (var module in settings.Hosted)
        {
            // Whatever a module maps goes into its own OpenAPI document, with its rows of the authorization table.
            module.MapEndpoints(app.MapGroup(string.Empty).InModule(module.Name).RequireAccess(access.Of(module.Name))
                .RequireCallers(callers.Of(module.Name)));
        }
        foreach (var front in settings.HostedFront)
        {
            // The front door's pages: for users of the front door (no service callers), outside the OpenAPI documents.
            front.MapEndpoints(app.MapGroup(string.Empty).RequireAccess(access.Of(front.Name)).WithMetadata(new Microsoft.AspNetCore.Routing.ExcludeFromDescriptionAttribute()));
        }
        if (settings.Hosted.Any())
        {
            app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymousAccess();
        }
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TelemetryOptions>>().Value.Metrics)
        {
            // The gateway of the microservices topology federates every process's metrics; any other process serves its own.
            if (gatewayOnly)
            {
                MetricsFederation.MapMetricsFederation(app);
            }
            else
            {
                app.MapProcessMetrics();
            }
        }
        if (gatewayOnly)
        {
            app.MapGateway();
        }
        return app;
    }

    /// <summary>How this process is named in traces and metrics: <c>monolith</c>, a module (<c>serving.2</c> for a
    /// replica), or the modules it hosts joined by <c>+</c>.</summary>
    private static string ProcessName(HostSettings settings) =>
        settings.IsMonolith ? "monolith"
        : settings.Modules.Count == 1 ? ProxiedModule.ReplicaName(settings.Modules[0], settings.Replica)
        : string.Join('+', settings.Modules);

    /// <summary>The process's configuration (data directory, quiet logging on hot paths, the settings' own) and console
    /// logging.</summary>
    private static WebApplicationBuilder CreateBuilder(HostSettings settings)
    {
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
            [$"{StrataOptions.Section}:{nameof(StrataOptions.Replica)}"] = settings.Replica.ToString(CultureInfo.InvariantCulture),
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
        switch (builder.Configuration["Strata:Logging:Format"] ?? "text")
        {
            case "text":
                builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
                break;
            case "json":
                // One JSON object per line with the trace and span ids of the request it was written for.
                builder.Logging.AddConsole(o => o.FormatterName = JsonLogFormatter.Name)
                    .AddConsoleFormatter<JsonLogFormatter, Microsoft.Extensions.Logging.Console.ConsoleFormatterOptions>();
                break;
            case var other:
                throw new ArgumentException($"Strata:Logging:Format = '{other}': expected text or json");
        }
        // Socket completions go straight to the thread pool instead of through Kestrel's own I/O queues (one per core by
        // default): one hand-off less per read and write. Measured on 2 cores with wrk at 32 connections (bench/serving.sh):
        // single-row infer p99 2.00-2.35 ms against 2.37-2.65 ms with the default, throughput unchanged within noise.
        // Strata:Kestrel:IOQueueCount sets it back (e.g. to the core count).
        var ioQueues = builder.Configuration.GetValue<int?>("Strata:Kestrel:IOQueueCount") ?? 0;
        builder.WebHost.UseSockets(o => o.IOQueueCount = Math.Max(0, ioQueues));
        return builder;
    }

    /// <summary>The hosted modules' services, and an HTTP client for each module they call that is hosted elsewhere.</summary>
    private static void AddModules(IServiceCollection services, IConfiguration configuration, HostSettings settings, Dictionary<string, IReadOnlyList<Uri>> remote,
        Strata.Security.Certificates.MutualTls? inboundTls)
    {
        var context = new ModuleContext(services, configuration, settings.IsMonolith ? "monolith" : string.Join('+', settings.Modules));
        StrataModules.AddDefinitions(services);
        services.AddStrataAccess(configuration, context.ProcessName, [.. settings.Catalog, .. settings.HostedFront], inboundTls, frontDoor: settings.HostedFront.Any());
        services.ConfigureAll<Microsoft.AspNetCore.OpenApi.OpenApiOptions>(o => o.AddSchemaTransformer((schema, context, _) =>
        {
            // Enums travel as their wire names (StrataJson's WireEnumConverter): say so in every document's schemas.
            var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
            if (type.IsEnum)
            {
                schema.Type = Microsoft.OpenApi.JsonSchemaType.String;
                schema.Enum = [.. WireNames.All(type).Select(n => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(n))];
            }
            return Task.CompletedTask;
        }));
        foreach (var module in settings.Hosted)
        {
            module.AddServices(context);
            services.AddOpenApi(module.Name);
        }
        foreach (var front in settings.HostedFront)
        {
            front.AddServices(context);
        }
        var catalog = settings.Catalog.ToDictionary(d => d.Name, StringComparer.Ordinal);
        // Every process checks credentials and audits what changes state, so every process calls the Security module (for
        // the keys) and the Events module (for the audit log), unless it hosts them.
        var crossCutting = new[] { ModuleNames.Security, ModuleNames.Events }.Where(catalog.ContainsKey).Select(m => (Caller: "every process", Callee: m));
        var called = settings.Hosted.Concat(settings.HostedFront).SelectMany(d => d.Calls.Select(callee => (Caller: d.Name, Callee: callee)))
            .Concat(crossCutting)
            .Where(c => !settings.Hosts(c.Callee)).DistinctBy(c => c.Callee);
        foreach (var (caller, callee) in called)
        {
            if (!catalog.TryGetValue(callee, out var module))
            {
                throw new ArgumentException($"module '{caller}' calls '{callee}', which is not a module of this Strata");
            }
            // A replicated module's callers use its first replica (the gateway balances over all of them).
            module.AddHttpClient(context, remote.GetValueOrDefault(callee)?[0]);
        }
    }

    /// <summary>Where each module hosted elsewhere listens: <c>Strata:Services:{module}</c>, one URL, or one per replica
    /// separated by spaces or commas.</summary>
    private static Dictionary<string, IReadOnlyList<Uri>> RemoteUrls(ConfigurationManager configuration, HostSettings settings)
    {
        var urls = new Dictionary<string, IReadOnlyList<Uri>>(StringComparer.Ordinal);
        foreach (var child in configuration.GetSection("Strata:Services").GetChildren())
        {
            if (child.Value is null || settings.Hosts(child.Key))
            {
                continue;
            }
            var list = new List<Uri>();
            foreach (var text in child.Value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    throw new ArgumentException($"Strata:Services:{child.Key} = '{child.Value}': '{text}' is not an http(s) URL");
                }
                list.Add(uri);
            }
            if (list.Count > 0)
            {
                urls[child.Key] = list;
            }
        }
        return urls;
    }
}
