using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;

namespace Strata.ServiceDefaults.Security;

/// <summary>Mutual TLS between Strata processes (the microservices topology): the process's own certificate, issued by
/// the Strata CA for its service identity, and the check of a peer's. Registered only where it is on.</summary>
public interface IServiceTls
{
    /// <summary>This process's service identity (a module's name, or <c>gateway</c>).</summary>
    string Identity { get; }

    /// <summary>Makes <paramref name="handler"/> present this process's certificate and accept only a server certificate
    /// issued by the Strata CA for <paramref name="peer"/> (any Strata service when null).</summary>
    void ConfigureClient(System.Net.Http.SocketsHttpHandler handler, string? peer);

    /// <summary>The service identity of a certificate the TLS handshake already validated; null when it names none.</summary>
    string? IdentityOf(X509Certificate2? certificate);
}

/// <summary>Endpoint metadata: the service identities that may call the route over mutual TLS (the service-to-service
/// authorization table). Routes without it (health, OpenAPI) answer any Strata service.</summary>
public sealed record CallerRule(IReadOnlySet<string> Callers, string Route);

public static class ServiceTlsExtensions
{
    /// <summary>Calls through this client to the Strata process <paramref name="peer"/> go over mutual TLS where it is
    /// configured (the URL then is https), and plain otherwise.</summary>
    public static IHttpClientBuilder UseServiceTls(this IHttpClientBuilder builder, string? peer) =>
        builder.UseSocketsHttpHandler((handler, services) =>
        {
            // Connections are reused for as long as they stay open; a bounded lifetime makes a rotated certificate (and
            // a restarted peer's) be presented on new connections within minutes, without a restart.
            handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5);
            services.GetService<IServiceTls>()?.ConfigureClient(handler, peer);
        });
}
