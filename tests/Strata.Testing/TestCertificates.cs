using System.Security.Cryptography.X509Certificates;
using Strata.Security.Certificates;

namespace Strata.Testing;

/// <summary>Clients of a module's own port in the microservices topology, where modules speak mutual TLS only: the test
/// presents the certificate of a service identity from the data directory (as that service would), or one from a CA of
/// its own (as an intruder would).</summary>
public static class TestCertificates
{
    public static string Folder(string dataDirectory) => ServiceCertificates.DefaultDirectory(dataDirectory);

    /// <summary>A client presenting <paramref name="identity"/>'s certificate of the Strata in <paramref name="dataDirectory"/>,
    /// which accepts the server's certificate when the Strata CA issued it; <paramref name="seen"/> receives each server
    /// certificate a handshake presents.</summary>
    public static HttpClient Client(string dataDirectory, string identity, string? key = null, Action<X509Certificate2>? seen = null) =>
        Client(new MutualTls(Folder(dataDirectory), identity, TimeProvider.System), key, seen);

    public static HttpClient Client(MutualTls tls, string? key = null, Action<X509Certificate2>? seen = null)
    {
        ArgumentNullException.ThrowIfNull(tls);
        var handler = tls.CreateHandler(peer: null);
        if (seen is not null)
        {
            var validate = handler.SslOptions.RemoteCertificateValidationCallback!;
            handler.SslOptions.RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
            {
                if (certificate is X509Certificate2 presented)
                {
                    seen(presented);
                }
                return validate(sender, certificate, chain, errors);
            };
        }
        var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        return key is null ? http : TestKeys.Authorize(http, key);
    }

    /// <summary>A client presenting a certificate for <paramref name="identity"/> from a CA the Strata in
    /// <paramref name="dataDirectory"/> never saw (created in <paramref name="folder"/>).</summary>
    public static HttpClient Foreign(string dataDirectory, string folder, string identity)
    {
        new ServiceCertificates(folder, TimeProvider.System).Init([identity]);
        return Presenting(dataDirectory, X509Certificate2.CreateFromPemFile(ServiceCertificates.FileOf(folder, identity)));
    }

    /// <summary>A client presenting <paramref name="certificate"/> (none when null) and no other, which accepts a server
    /// certificate the Strata CA of <paramref name="dataDirectory"/> issued: a refused request is the server's refusal.</summary>
    public static HttpClient Presenting(string dataDirectory, X509Certificate2? certificate)
    {
        var handler = new SocketsHttpHandler();
        if (certificate is not null)
        {
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        }
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
        {
            if (presented is not X509Certificate2 server)
            {
                return false;
            }
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.ImportFromPemFile(Path.Combine(Folder(dataDirectory), ServiceCertificates.TrustFile));
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(server);
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }
}
