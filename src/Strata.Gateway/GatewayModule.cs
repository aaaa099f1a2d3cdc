using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Security;
using Yarp.ReverseProxy.Configuration;

namespace Strata.Gateway;

/// <summary>The gateway of the microservices topology: one YARP cluster per module with a route per path pattern the
/// module declares, and a readiness check that is ready only when every module behind it is.</summary>
public static class GatewayModule
{
    public static IServiceCollection AddGatewayModule(this IServiceCollection services, IReadOnlyList<ProxiedModule> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        var routes = new List<RouteConfig>();
        var clusters = new List<ClusterConfig>();
        var shapes = new Dictionary<string, IErrorShape>(StringComparer.Ordinal);
        foreach (var (module, patterns, url, errorShapes) in modules)
        {
            clusters.Add(new ClusterConfig
            {
                ClusterId = module,
                Destinations = new Dictionary<string, DestinationConfig> { [module] = new() { Address = url.ToString() } },
                HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig
                {
                    // Training calls run for minutes; modules speak HTTP/1.1 (over mutual TLS in the microservices topology).
                    ActivityTimeout = TimeSpan.FromMinutes(10),
                    Version = System.Net.HttpVersion.Version11,
                    VersionPolicy = HttpVersionPolicy.RequestVersionExact,
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
        services.AddReverseProxy().LoadFromMemory(routes, clusters);
        services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory, ServiceTlsForwarderFactory>();
        services.AddHttpClient(ModulesReadyCheck.ClientName, c => c.Timeout = TimeSpan.FromSeconds(2)).UseServiceTls(peer: null);
        services.AddSingleton(new ModuleDirectory(modules.ToDictionary(m => m.Name, m => m.Url)));
        services.AddSingleton(new GatewayErrorShapes(shapes));
        services.AddReadinessCheck<ModulesReadyCheck>("modules-ready");
        return services;
    }

    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder app)
    {
        // A protocol's paths get its error shape as endpoint metadata, so the gateway's own refusals (no credentials, rate
        // limited, shedding load) read as the module's would: MLflow clients parse MLflow's error, OIP clients OIP's.
        var shapes = app.ServiceProvider.GetRequiredService<GatewayErrorShapes>().ByRoute;
        app.MapReverseProxy().ConfigureEndpoints((endpoint, route) =>
        {
            if (shapes.TryGetValue(route.RouteId, out var shape))
            {
                endpoint.WithMetadata(shape);
            }
        });
        return app;
    }
}
