using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Security;
using Microsoft.Extensions.Configuration;
using Strata.Gateway.Resilience;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Transforms;

namespace Strata.Gateway;

/// <summary>The gateway of the microservices topology: one YARP cluster per module (a destination per replica) with a
/// route per path pattern the module declares, and a readiness check that is ready only when every module behind it is.
/// Replicas are balanced by power of two choices, checked actively (readiness) and passively (<see cref="OutlierDetection"/>);
/// each module has a timeout, an in-flight limit and a retry budget (<see cref="ProxyResilience"/>).</summary>
public static class GatewayModule
{
    public static IServiceCollection AddGatewayModule(this IServiceCollection services, IReadOnlyList<ProxiedModule> modules, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(modules);
        var options = new GatewayOptions();
        configuration?.GetSection(GatewayOptions.Section).Bind(options);
        var optionsBuilder = services.AddOptions<GatewayOptions>().ValidateDataAnnotations()
            .Validate(o => o.OutlierDetection.BaseEjectionTime > TimeSpan.Zero, "Strata:Gateway:OutlierDetection:BaseEjectionTime must be positive")
            .Validate(o => o.Timeouts.Values.All(t => t > TimeSpan.Zero), "Strata:Gateway:Timeouts must be positive")
            .Validate(o => o.Timeouts.Keys.All(k => modules.Any(m => m.Name == k)), "Strata:Gateway:Timeouts names a module the gateway does not proxy")
            .ValidateOnStart();
        if (configuration is not null)
        {
            optionsBuilder.BindConfiguration(GatewayOptions.Section);
        }
        var routes = new List<RouteConfig>();
        var clusters = new List<ClusterConfig>();
        var shapes = new Dictionary<string, IErrorShape>(StringComparer.Ordinal);
        foreach (var (module, patterns, urls, errorShapes, timeout, _) in modules)
        {
            clusters.Add(new ClusterConfig
            {
                ClusterId = module,
                Destinations = urls.Select((url, i) => (Id: ProxiedModule.ReplicaName(module, i + 1), Url: url))
                    .ToDictionary(d => d.Id, d => new DestinationConfig { Address = d.Url.ToString() }, StringComparer.Ordinal),
                // Power of two choices: of two replicas picked at random, the one with fewer requests in flight (a replica
                // that slows down or hangs collects requests and so stops being chosen).
                LoadBalancingPolicy = LoadBalancingPolicies.PowerOfTwoChoices,
                HealthCheck = new HealthCheckConfig
                {
                    Passive = new PassiveHealthCheckConfig { Enabled = true, Policy = OutlierDetection.PolicyName },
                    // Readiness of each replica, when there are several to choose from.
                    Active = urls.Count < 2 ? null : new ActiveHealthCheckConfig
                    {
                        Enabled = true,
                        Interval = options.HealthChecks.Interval,
                        Timeout = options.HealthChecks.Timeout,
                        Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                        Path = "/health/ready",
                    },
                    // Every replica out (all failing their checks): try them all rather than refuse everything.
                    AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyOrPanic,
                },
                HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig
                {
                    // How long to wait for the answer to begin (and between reads): per module, training's calls run for minutes.
                    ActivityTimeout = options.Timeouts.TryGetValue(module, out var configured) ? configured : timeout ?? TimeSpan.FromSeconds(100),
                    // HTTP/1.1 unless configured (over mutual TLS in the microservices topology).
                    Version = options.ModuleHttpVersion == "2" ? System.Net.HttpVersion.Version20 : System.Net.HttpVersion.Version11,
                    VersionPolicy = options.ModuleHttpVersion == "2" ? HttpVersionPolicy.RequestVersionOrLower : HttpVersionPolicy.RequestVersionExact,
                },
            });
            routes.AddRange(patterns.Select((pattern, i) => new RouteConfig
            {
                RouteId = $"{module}-{i}",
                ClusterId = module,
                Match = new RouteMatch { Path = pattern },
            }));
            for (var i = 0; i < patterns.Count; i++)
            {
                if (errorShapes?.FirstOrDefault(s => patterns[i] == s.Key || patterns[i].StartsWith(s.Key.TrimEnd('/') + "/", StringComparison.Ordinal)).Value is { } shape)
                {
                    shapes[$"{module}-{i}"] = shape;
                }
            }
        }
        services.AddReverseProxy().LoadFromMemory(routes, clusters)
            .AddTransforms(t => t.AddResponseTransform(ProxyResilience.HoldBackUnavailable));
        services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory, ServiceTlsForwarderFactory>();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<IPassiveHealthCheckPolicy, OutlierDetection>();
        services.AddSingleton(new IdempotentPosts(modules.ToDictionary(m => m.Name, m => m.IdempotentPosts ?? [])));
        services.AddHttpClient(ModulesReadyCheck.ClientName, c => c.Timeout = TimeSpan.FromSeconds(2)).UseServiceTls(peer: null);
        // Scrapes of the modules' /metrics for the federated one: as the gateway (service credential, its certificate).
        services.AddHttpClient(MetricsFederation.ClientName, c => c.Timeout = MetricsFederation.ScrapeTimeout * 2)
            .AddHttpMessageHandler(sp => new ServiceCredentialHandler(sp.GetService<IServiceCredential>())).UseServiceTls(peer: null);
        services.AddSingleton<MetricsFederation>();
        services.AddSingleton(new ModuleDirectory(modules.ToDictionary(m => m.Name, m => m.Urls)));
        services.AddSingleton(new GatewayErrorShapes(shapes));
        services.AddReadinessCheck<ModulesReadyCheck>("modules-ready");
        return services;
    }

    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder app)
    {
        // A protocol's paths get its error shape as endpoint metadata, so the gateway's own refusals (no credentials, rate
        // limited, shedding load) read as the module's would: MLflow clients parse MLflow's error, OIP clients OIP's.
        var shapes = app.ServiceProvider.GetRequiredService<GatewayErrorShapes>().ByRoute;
        app.MapReverseProxy(proxy =>
        {
            // The standard pipeline (affinity, load balancing, passive health) behind the module's in-flight limit and retries.
            proxy.UseMiddleware<ProxyResilience>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        }).ConfigureEndpoints((endpoint, route) =>
        {
            if (shapes.TryGetValue(route.RouteId, out var shape))
            {
                endpoint.WithMetadata(shape);
            }
        });
        return app;
    }
}
