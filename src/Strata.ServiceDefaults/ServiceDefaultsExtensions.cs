using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Strata.Contracts;
using Strata.ServiceDefaults.Security;

namespace Strata.ServiceDefaults;

/// <summary>What every Strata process has, whichever modules it hosts: the JSON wire shape, problem details for
/// every error, health endpoints and the resilience defaults for calls to other modules.</summary>
public static class ServiceDefaultsExtensions
{
    public const string ReadyTag = "ready";

    public static IServiceCollection AddServiceDefaults(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o => StrataJson.Configure(o.SerializerOptions));
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            // Routing answers these itself (no handler runs); still name what was wrong.
            if (c.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType)
            {
                c.ProblemDetails.Detail ??= $"content-type: '{c.HttpContext.Request.ContentType}' is not accepted here (see this endpoint's OpenAPI requestBody)";
                c.ProblemDetails.Extensions.TryAdd("field", "content-type");
            }
            else if (c.ProblemDetails.Status == StatusCodes.Status405MethodNotAllowed)
            {
                c.ProblemDetails.Detail ??= $"method: {c.HttpContext.Request.Method} is not allowed on {c.HttpContext.Request.Path}";
                c.ProblemDetails.Extensions.TryAdd("field", "method");
            }
            else if (c.ProblemDetails.Status == StatusCodes.Status404NotFound)
            {
                c.ProblemDetails.Detail ??= $"path: nothing is served at {c.HttpContext.Request.Path}";
            }
        });
        // Binding failures (malformed JSON, wrong types) reach the exception handler, which names the field.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<StrataExceptionHandler>();
        services.AddHealthChecks();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<RedisConnections>();
        services.AddOptions<StrataOptions>().BindConfiguration(StrataOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }

    /// <summary>Adds the exception handler and status-code pages so that no error leaves without a problem body.</summary>
    public static IApplicationBuilder UseServiceDefaults(this IApplicationBuilder app)
    {
        // Behind the gateway, links (OpenAPI servers, Location headers) name the gateway's host, not the module's.
        // Only loopback proxies are trusted (the default KnownProxies).
        app.UseForwardedHeaders(new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost,
        });
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary><c>/health/live</c> answers while the process runs; <c>/health/ready</c> runs the checks tagged ready.</summary>
    public static IEndpointRouteBuilder MapDefaultEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false })
            .ExcludeFromDescription().AllowAnonymousAccess();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) })
            .ExcludeFromDescription().AllowAnonymousAccess();
        return app;
    }

    /// <summary>Registers a readiness check.</summary>
    public static IHealthChecksBuilder AddReadinessCheck<T>(this IServiceCollection services, string name)
        where T : class, IHealthCheck
        => services.AddHealthChecks().AddCheck<T>(name, HealthStatus.Unhealthy, [ReadyTag]);

    /// <summary>Marks an endpoint as belonging to a module's OpenAPI document.</summary>
    public static TBuilder InModule<TBuilder>(this TBuilder builder, string module)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithGroupName(module);

    /// <summary>Convenience for handlers: a 400 problem naming the field.</summary>
    public static IResult ValidationProblem(string field, string reason) => Problems.Validation(field, reason);
}
