using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Strata.ServiceDefaults.Security;

namespace Strata.ServiceDefaults.Modules;

/// <summary>Registration of a module's typed HTTP client, with the standard resilience handler (timeouts, retries with
/// jittered backoff, circuit breaker), for <see cref="ModuleDescriptor.AddHttpClient"/>.</summary>
public static class ModuleClients
{
    /// <summary>The URL of a module this process needs but does not host, or a start-up error that says how to give it.</summary>
    public static Uri RequireUrl(string module, Uri? url) =>
        url ?? throw new ArgumentException($"module '{module}' is not hosted here; set Strata:Services:{module} (env Strata__Services__{module}) to its URL");

    /// <summary>Adds <typeparamref name="TClient"/> as <typeparamref name="TImplementation"/> for <paramref name="module"/> at
    /// <paramref name="url"/> (required: see <see cref="RequireUrl"/>).
    /// <paramref name="retryUnsafeMethods"/> says whether POST, PUT, PATCH and DELETE may be resent: only where the
    /// module's writes are idempotent (content-addressed datasets, feature pushes keyed by entity and time); a request
    /// that may have landed and is not idempotent (registering a version) must not be sent twice.</summary>
    public static IHttpClientBuilder AddModuleHttpClient<TClient, TImplementation>(this IServiceCollection services, string module, Uri? url,
        bool retryUnsafeMethods, Action<HttpClient>? configureClient = null, Action<HttpStandardResilienceOptions>? configureResilience = null)
        where TClient : class
        where TImplementation : class, TClient
    {
        var baseAddress = RequireUrl(module, url);
        var builder = services.AddHttpClient<TClient, TImplementation>(c =>
        {
            c.BaseAddress = baseAddress;
            configureClient?.Invoke(c);
        }).AddServiceCredential(module);
        builder.AddStandardResilienceHandler(o =>
        {
            if (!retryUnsafeMethods)
            {
                o.Retry.DisableForUnsafeHttpMethods();
            }
            configureResilience?.Invoke(o);
        });
        return builder;
    }
}
