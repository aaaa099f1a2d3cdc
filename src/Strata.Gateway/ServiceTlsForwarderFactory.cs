using System.Net.Http;
using Microsoft.Extensions.Logging;
using Strata.ServiceDefaults.Security;
using Yarp.ReverseProxy.Forwarder;

namespace Strata.Gateway;

/// <summary>The gateway's connections to the modules: with mutual TLS on, each presents the gateway's certificate and
/// accepts only the certificate of the module the cluster is (the cluster id is the module's name). YARP keeps the
/// connections open and reuses them, so the handshake is paid once per connection, not per request.</summary>
public sealed class ServiceTlsForwarderFactory(ILogger<ForwarderHttpClientFactory> logger, IServiceTls? tls = null) : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(handler);
        base.ConfigureHandler(context, handler);
        tls?.ConfigureClient(handler, context.ClusterId);
    }
}
