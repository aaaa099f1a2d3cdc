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
        foreach (var (module, patterns, url) in modules)
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
        }
        services.AddReverseProxy().LoadFromMemory(routes, clusters);
        services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory, ServiceTlsForwarderFactory>();
        services.AddHttpClient(ModulesReadyCheck.ClientName, c => c.Timeout = TimeSpan.FromSeconds(2)).UseServiceTls(peer: null);
        services.AddSingleton(new ModuleDirectory(modules.ToDictionary(m => m.Name, m => m.Url)));
        services.AddReadinessCheck<ModulesReadyCheck>("modules-ready");
        return services;
    }

    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder app)
    {
        app.MapReverseProxy();
        return app;
    }
}
