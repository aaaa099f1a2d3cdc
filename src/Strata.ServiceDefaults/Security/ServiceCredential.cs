using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;

namespace Strata.ServiceDefaults.Security;

/// <summary>The credential a Strata process presents when it calls another (the Security module's service token).</summary>
public interface IServiceCredential
{
    AuthenticationHeaderValue Header { get; }
}

/// <summary>Puts the process's service credential on calls to another Strata process, unless the call already carries
/// credentials of its own. Added to module clients only: a client that calls outside Strata never sends it.</summary>
public sealed class ServiceCredentialHandler(IServiceCredential? credential) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (credential is not null)
        {
            request.Headers.Authorization ??= credential.Header;
        }
        return base.SendAsync(request, cancellationToken);
    }
}

public static class ServiceCredentialExtensions
{
    /// <summary>Calls through this client to the Strata process <paramref name="peer"/> present the service credential (a
    /// process composed without the security module, as some test harnesses are, has none and sends none) and, where
    /// mutual TLS is on, this process's certificate.</summary>
    public static IHttpClientBuilder AddServiceCredential(this IHttpClientBuilder builder, string peer) =>
        builder.AddHttpMessageHandler(sp => new ServiceCredentialHandler(sp.GetService<IServiceCredential>())).UseServiceTls(peer);
}
