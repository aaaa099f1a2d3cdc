using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;
using Strata.Contracts;
using Strata.Hosting;
using Strata.Security.Certificates;
using Strata.Testing;

namespace Strata.Security.Tests;

/// <summary>The CA and service certificates on disk, and what one process's mutual TLS accepts.</summary>
public sealed class MutualTlsTests : IDisposable
{
    private static readonly string[] Identities = ["gateway", "serving", "training"];
    private static readonly System.Security.Cryptography.Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");
    private static readonly System.Security.Cryptography.Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private readonly TempFolder _folder = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    private string Certs => Path.Combine(_folder.Path, "certs");

    [Fact]
    public void Init_IsIdempotent_AndNamesEachService()
    {
        var certificates = new ServiceCertificates(Certs, _time);
        var first = certificates.Init(Identities);
        Assert.True(first.CaCreated);
        Assert.Equal(Identities, first.Issued);
        var serials = certificates.List().ToDictionary(c => c.Identity, c => c.Serial);

        var second = certificates.Init(Identities);
        Assert.False(second.CaCreated);
        Assert.Empty(second.Issued);
        Assert.Equal(serials, certificates.List().ToDictionary(c => c.Identity, c => c.Serial));
        using var serving = X509Certificate2.CreateFromPemFile(ServiceCertificates.FileOf(Certs, "serving"));
        Assert.Equal("serving", ServiceIdentity.Of(serving));
        Assert.True(serving.HasPrivateKey);
    }

    [Fact]
    public void Init_RenewsWhatExpiresWithin30Days()
    {
        var certificates = new ServiceCertificates(Certs, _time);
        certificates.Init(Identities);
        _time.Advance(ServiceCertificates.Validity - ServiceCertificates.RenewBefore - TimeSpan.FromDays(1));
        Assert.Empty(certificates.Init(Identities).Issued);
        _time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(Identities, certificates.Init(Identities).Issued);
    }

    [Fact]
    public void Trust_AcceptsOwnCa_RefusesForeignWrongPeerExpiredAndWrongUsage()
    {
        new ServiceCertificates(Certs, _time).Init(Identities);
        var foreignFolder = Path.Combine(_folder.Path, "foreign");
        new ServiceCertificates(foreignFolder, _time).Init(["gateway"]);
        var tls = new MutualTls(Certs, "serving", _time);
        using var gateway = X509Certificate2.CreateFromPemFile(ServiceCertificates.FileOf(Certs, "gateway"));
        using var foreign = X509Certificate2.CreateFromPemFile(ServiceCertificates.FileOf(foreignFolder, "gateway"));

        Assert.True(tls.IsTrusted(gateway, ClientAuthentication, expected: null));
        Assert.True(tls.IsTrusted(gateway, ServerAuthentication, expected: "gateway"));
        Assert.False(tls.IsTrusted(gateway, ServerAuthentication, expected: "serving"));
        Assert.False(tls.IsTrusted(foreign, ClientAuthentication, expected: null));
        Assert.Equal("gateway", tls.IdentityOf(gateway));

        _time.Advance(ServiceCertificates.Validity + TimeSpan.FromDays(1));
        Assert.False(tls.IsTrusted(gateway, ClientAuthentication, expected: null));
    }

    [Fact]
    public async Task Rotation_IsReadWithoutRestart_AndTheOldCaStaysTrustedOneRound()
    {
        var certificates = new ServiceCertificates(Certs, _time);
        certificates.Init(Identities);
        var tls = new MutualTls(Certs, "serving", _time);
        var before = tls.Certificate.SerialNumber;
        using var oldGateway = X509Certificate2.CreateFromPemFile(ServiceCertificates.FileOf(Certs, "gateway"));

        certificates.Rotate(Identities, newCa: true);
        // Files are checked at most once a second.
        await Eventually.ValueAsync(() => Task.FromResult(tls.Certificate.SerialNumber), s => s != before, TimeSpan.FromSeconds(5), "the rotated certificate read");
        Assert.True(tls.IsTrusted(oldGateway, ClientAuthentication, expected: null), "the previous CA's certificates stay valid for one rotation");

        certificates.Rotate(Identities, newCa: true);
        await Eventually.ValueAsync(() => Task.FromResult(tls.IsTrusted(oldGateway, ClientAuthentication, expected: null)), trusted => !trusted,
            TimeSpan.FromSeconds(5), "the retired CA no longer trusted");
    }

    [Fact]
    public void MissingCertificates_SayHowToCreateThem()
    {
        var e = Assert.Throws<ArgumentException>(() => new MutualTls(Certs, "serving", _time));
        Assert.Contains("strata certs init", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CallTable_ScoringOnlyFromTheGateway_OthersFromTheirDeclaredCallers()
    {
        var table = new ServiceCallTable(StrataModules.All);
        Assert.Equal(["gateway"], table.CallersOf(ModuleNames.Serving, "POST /predict"));
        Assert.Equal(["gateway"], table.CallersOf(ModuleNames.Serving, "POST /v2/models/{name}/infer"));
        Assert.Equal(["gateway"], table.CallersOf(ModuleNames.Serving, "POST /v1/models/{name}:predict"));
        Assert.Equal(["features", "gateway", "monitoring", "serving", "training"], table.CallersOf(ModuleNames.Registry, "GET /api/registry/models").Order());
        Assert.DoesNotContain(ModuleNames.Data, table.CallersOf(ModuleNames.Registry, "GET /api/registry/models"));
        var everyone = StrataModules.All.Select(m => m.Name).Append(ModuleNames.Gateway).Order().ToList();
        Assert.Equal(everyone, table.CallersOf(ModuleNames.Events, "POST /api/events/publish").Order());
        Assert.DoesNotContain(ModuleNames.Supervisor, table.CallersOf(ModuleNames.Security, "GET /api/security/key-snapshot"));
    }

    public void Dispose() => _folder.Dispose();
}
