using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Strata.Security.Certificates;

/// <summary>One service certificate on disk: who it names, its serial, when it expires and which CA signed it.</summary>
public sealed record CertificateInfo(string Identity, string Serial, DateTimeOffset NotBefore, DateTimeOffset NotAfter, string Issuer, string Thumbprint, string File);

/// <summary>What <see cref="ServiceCertificates.Init"/> or <see cref="ServiceCertificates.Rotate"/> did.</summary>
public sealed record CertificateChanges(bool CaCreated, IReadOnlyList<string> Issued, IReadOnlyList<string> Kept);

/// <summary>The private CA of one Strata and a certificate per service identity, as files under
/// <c>security/certs</c> of the data directory: <c>ca.pem</c> (the CA certificate), <c>ca.key</c> (its key),
/// <c>trust.pem</c> (the CAs a process accepts: the current one, and the previous one after a CA rotation, so
/// processes still presenting certificates of the old CA keep working until they pick up new ones) and
/// <c>&lt;identity&gt;.pem</c> (the service's certificate and key). Private keys are written owner-only (0600) and every
/// file is replaced by a rename, so a process reading it sees the old file or the new one, never half of either.
/// ECDSA P-256 keys; the identity is a SPIFFE URI (<c>spiffe://strata/&lt;identity&gt;</c>) in the subject alternative
/// name, as Istio names workloads; loopback names are added so a client can also check the host.</summary>
public sealed class ServiceCertificates(string directory, TimeProvider time)
{
    /// <summary>How long a service certificate is valid; <see cref="Init"/> renews one with less than <see cref="RenewBefore"/> left.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(90);

    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private static readonly TimeSpan CaValidity = TimeSpan.FromDays(3650);

    public const string CaFile = "ca.pem";
    public const string CaKeyFile = "ca.key";
    public const string TrustFile = "trust.pem";

    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>The default folder: <c>security/certs</c> under the data directory.</summary>
    public static string DefaultDirectory(string dataDirectory) => Path.Combine(Path.GetFullPath(dataDirectory), "security", "certs");

    public static string FileOf(string directory, string identity) => Path.Combine(directory, $"{identity}.pem");

    public bool Exists => File.Exists(Path.Combine(Directory, CaFile));

    /// <summary>Creates the CA when there is none and a certificate for each identity that has none, has one expiring
    /// within <see cref="RenewBefore"/>, or has one the current CA did not sign. Idempotent: a second call changes nothing.</summary>
    public CertificateChanges Init(IEnumerable<string> identities)
    {
        ArgumentNullException.ThrowIfNull(identities);
        using var held = Lock();
        var created = false;
        if (!Exists)
        {
            WriteCa(CreateCa(), previous: null);
            created = true;
        }
        using var ca = LoadCa();
        var issued = new List<string>();
        var kept = new List<string>();
        foreach (var identity in identities.Distinct(StringComparer.Ordinal))
        {
            if (NeedsIssue(identity, ca))
            {
                Issue(identity, ca);
                issued.Add(identity);
            }
            else
            {
                kept.Add(identity);
            }
        }
        return new CertificateChanges(created, issued, kept);
    }

    /// <summary>Issues a new certificate (and key) for every identity; with <paramref name="newCa"/>, first a new CA,
    /// keeping the old one trusted beside it. Running processes present the new certificates on their next connections
    /// without a restart (<see cref="MutualTls"/> reloads changed files).</summary>
    public CertificateChanges Rotate(IEnumerable<string> identities, bool newCa)
    {
        ArgumentNullException.ThrowIfNull(identities);
        using var held = Lock();
        if (!Exists)
        {
            throw new InvalidOperationException($"there is no Strata CA in {Directory}: run 'strata certs init' first");
        }
        if (newCa)
        {
            using var old = LoadCa();
            WriteCa(CreateCa(), previous: old);
        }
        using var ca = LoadCa();
        var issued = new List<string>();
        foreach (var identity in identities.Distinct(StringComparer.Ordinal))
        {
            Issue(identity, ca);
            issued.Add(identity);
        }
        return new CertificateChanges(newCa, issued, []);
    }

    /// <summary>The service certificates on disk, by identity.</summary>
    public IReadOnlyList<CertificateInfo> List()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }
        var list = new List<CertificateInfo>();
        foreach (var file in System.IO.Directory.GetFiles(Directory, "*.pem").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (name is "ca" or "trust")
            {
                continue;
            }
            using var certificate = X509Certificate2.CreateFromPemFile(file);
            list.Add(new CertificateInfo(ServiceIdentity.Of(certificate) ?? name, certificate.SerialNumber, certificate.NotBefore.ToUniversalTime(),
                certificate.NotAfter.ToUniversalTime(), certificate.Issuer, certificate.Thumbprint, file));
        }
        return list;
    }

    private bool NeedsIssue(string identity, X509Certificate2 ca)
    {
        var file = FileOf(Directory, identity);
        if (!File.Exists(file))
        {
            return true;
        }
        try
        {
            using var certificate = X509Certificate2.CreateFromPemFile(file);
            return certificate.NotAfter.ToUniversalTime() - time.GetUtcNow().UtcDateTime < RenewBefore
                || !string.Equals(certificate.Issuer, ca.Subject, StringComparison.Ordinal)
                || ServiceIdentity.Of(certificate) != identity;
        }
        catch (CryptographicException)
        {
            return true; // unreadable: issue again
        }
    }

    private X509Certificate2 CreateCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var request = new CertificateRequest($"CN=Strata CA {suffix}, O=Strata", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = time.GetUtcNow();
        return request.CreateSelfSigned(now.AddMinutes(-5), now.Add(CaValidity));
    }

    private void Issue(string identity, X509Certificate2 ca)
    {
        if (!ServiceIdentity.IsValidName(identity))
        {
            throw new ArgumentException($"'{identity}' is not a service identity (lowercase letters, digits and '-')", nameof(identity));
        }
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={identity}, O=Strata", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication"), new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(ServiceIdentity.UriOf(identity));
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var now = time.GetUtcNow();
        var notAfter = now.Add(Validity) < ca.NotAfter.ToUniversalTime() ? now.Add(Validity) : new DateTimeOffset(ca.NotAfter.ToUniversalTime());
        using var certificate = request.Create(ca, now.AddMinutes(-5), notAfter, serial);
        WriteAtomically(FileOf(Directory, identity), certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n", secret: true);
    }

    private void WriteCa(X509Certificate2 ca, X509Certificate2? previous)
    {
        using var key = ca.GetECDsaPrivateKey()!;
        WriteAtomically(Path.Combine(Directory, CaKeyFile), key.ExportPkcs8PrivateKeyPem() + "\n", secret: true);
        WriteAtomically(Path.Combine(Directory, CaFile), ca.ExportCertificatePem() + "\n", secret: false);
        // The trust bundle: the new CA, and the one it replaces (certificates it signed stay valid until they are replaced).
        var trust = ca.ExportCertificatePem() + "\n" + (previous is null ? string.Empty : previous.ExportCertificatePem() + "\n");
        WriteAtomically(Path.Combine(Directory, TrustFile), trust, secret: false);
        ca.Dispose();
    }

    private X509Certificate2 LoadCa() =>
        X509Certificate2.CreateFromPemFile(Path.Combine(Directory, CaFile), Path.Combine(Directory, CaKeyFile));

    private void WriteAtomically(string path, string text, bool secret)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = secret
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }
        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>One writer at a time across processes (a supervisor starting while someone runs <c>strata certs rotate</c>).</summary>
    private FileStream Lock()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = Path.Combine(Directory, ".lock");
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 100)
            {
                Thread.Sleep(50);
            }
        }
    }
}
