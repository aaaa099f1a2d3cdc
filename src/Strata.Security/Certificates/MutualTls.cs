using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Strata.ServiceDefaults.Security;

namespace Strata.Security.Certificates;

/// <summary>One process's side of mutual TLS: its certificate (<c>&lt;identity&gt;.pem</c>) and the CAs it trusts
/// (<c>trust.pem</c>), read from <see cref="ServiceCertificates"/>' folder and read again when either file changes
/// (checked at most once a second, on the next handshake), so <c>strata certs rotate</c> takes effect without a restart:
/// new connections present and accept the new certificates, open ones carry on. A peer is accepted when its certificate
/// chains to a trusted CA, is valid now, is meant for the side it plays (client or server authentication) and names a
/// Strata service; a client also checks that the server is the service it meant to call.</summary>
public sealed class MutualTls : IServiceTls
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly string _certificateFile;
    private readonly string _trustFile;
    private readonly TimeProvider _time;
    private readonly ConditionalWeakTable<X509Certificate2, string> _identities = new();
    private Loaded _loaded;
    private long _nextCheck;

    public MutualTls(string directory, string identity, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(identity);
        Identity = identity;
        _time = time;
        _certificateFile = ServiceCertificates.FileOf(directory, identity);
        _trustFile = Path.Combine(directory, ServiceCertificates.TrustFile);
        if (!File.Exists(_certificateFile) || !File.Exists(_trustFile))
        {
            throw new ArgumentException($"mutual TLS is on but there is no certificate for '{identity}' in {directory}: run 'strata certs init --data-dir <dir>' (strata up does it on first start)");
        }
        _loaded = Load() ?? throw new ArgumentException($"the certificate {_certificateFile} or the trust bundle {_trustFile} cannot be read");
        _nextCheck = Environment.TickCount64 + 1000;
    }

    public string Identity { get; }

    /// <summary>The certificate this process presents now.</summary>
    public X509Certificate2 Certificate => Current().Certificate;

    /// <summary>Kestrel: TLS only, a client certificate required and checked during the handshake.</summary>
    public void ConfigureServer(HttpsConnectionAdapterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ServerCertificateSelector = (_, _) => Current().Certificate;
        options.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
        options.ClientCertificateValidation = (certificate, _, _) => IsTrusted(certificate, ClientAuthentication, expected: null);
        options.CheckCertificateRevocation = false;
        options.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
    }

    public void ConfigureClient(System.Net.Http.SocketsHttpHandler handler, string? peer)
    {
        ArgumentNullException.ThrowIfNull(handler);
        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => Current().Certificate;
        // The platform's own checks fail for a private CA (untrusted root, and a host name where the identity is what
        // matters): the chain is built here against the trust bundle, and the identity compared with the peer meant.
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is X509Certificate2 presented && IsTrusted(presented, ServerAuthentication, peer);
        handler.SslOptions.EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
    }

    /// <summary>A client for a Strata process presenting this process's certificate (the supervisor's health checks, tests).</summary>
    public System.Net.Http.SocketsHttpHandler CreateHandler(string? peer)
    {
        var handler = new System.Net.Http.SocketsHttpHandler();
        ConfigureClient(handler, peer);
        return handler;
    }

    public string? IdentityOf(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return null;
        }
        var identity = _identities.GetValue(certificate, static c => ServiceIdentity.Of(c) ?? string.Empty);
        return identity.Length == 0 ? null : identity;
    }

    /// <summary>Whether <paramref name="certificate"/> chains to a CA of the trust bundle, is valid now, may be used for
    /// <paramref name="usage"/> and names a Strata service (<paramref name="expected"/> when given).</summary>
    public bool IsTrusted(X509Certificate2 certificate, Oid usage, string? expected)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var identity = IdentityOf(certificate);
        if (identity is null || (expected is not null && identity != expected))
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Current().Trust);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(usage);
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        return chain.Build(certificate);
    }

    private Loaded Current()
    {
        var now = Environment.TickCount64;
        if (now >= Volatile.Read(ref _nextCheck))
        {
            Volatile.Write(ref _nextCheck, now + 1000);
            var loaded = Volatile.Read(ref _loaded);
            if (File.GetLastWriteTimeUtc(_certificateFile) != loaded.CertificateStamp || File.GetLastWriteTimeUtc(_trustFile) != loaded.TrustStamp)
            {
                // A file being replaced reads as the old one or the new one (both are renamed into place); one that cannot
                // be read leaves the process on what it has, and is tried again in a second.
                if (Load() is { } fresh)
                {
                    Volatile.Write(ref _loaded, fresh);
                }
            }
        }
        return Volatile.Read(ref _loaded);
    }

    private Loaded? Load()
    {
        try
        {
            var certificateStamp = File.GetLastWriteTimeUtc(_certificateFile);
            var trustStamp = File.GetLastWriteTimeUtc(_trustFile);
            var certificate = X509Certificate2.CreateFromPemFile(_certificateFile);
            var trust = new X509Certificate2Collection();
            trust.ImportFromPemFile(_trustFile);
            return new Loaded(certificate, trust, certificateStamp, trustStamp);
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private sealed record Loaded(X509Certificate2 Certificate, X509Certificate2Collection Trust, DateTime CertificateStamp, DateTime TrustStamp);
}
