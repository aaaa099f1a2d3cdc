using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Strata.Contracts;
using Strata.Testing;

namespace Strata.EndToEnd.Tests;

/// <summary>Mutual TLS between the processes of the microservices topology, as an attacker on the machine meets it: a
/// module's port refuses plain HTTP, a client without a certificate, and a certificate from another CA; a Strata
/// service may call only the routes the service-to-service table gives it (serving's scoring: the gateway only);
/// certificates rotate, CA included, while requests flow, and every process picks them up without a restart.</summary>
public sealed class MutualTlsScenarioTests
{
    private static readonly object Applicant = new { age = 35, income = 50000 };

    [Fact]
    public async Task Microservices_ModulePorts_AcceptOnlyTheirCallers_AndRotateWithoutRestart()
    {
        using var folder = new TempFolder();
        await using var up = await StrataUp.StartAsync("microservices", folder.Path);
        var services = SecurityScenarioTests.Services(up.Output);
        var serving = services[ModuleNames.Serving];
        var registry = services[ModuleNames.Registry];
        Assert.All(services.Where(s => s.Key != ModuleNames.Gateway), s => Assert.Equal(Uri.UriSchemeHttps, s.Value.Scheme));

        // Private keys are the owner's only.
        var certs = TestCertificates.Folder(folder.Path);
        foreach (var file in Directory.GetFiles(certs, "*.pem").Where(f => !f.EndsWith("ca.pem", StringComparison.Ordinal) && !f.EndsWith("trust.pem", StringComparison.Ordinal))
            .Append(Path.Combine(certs, "ca.key")))
        {
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
        }

        // Plain HTTP, TLS without a client certificate, and a certificate of another CA are refused at the handshake.
        using (var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync(new UriBuilder(serving) { Scheme = "http", Path = "/health/live" }.Uri));
        }
        using (var noCertificate = TestCertificates.Presenting(folder.Path, certificate: null))
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => noCertificate.GetAsync(new Uri(serving, "/health/live")));
        }
        using (var intruder = new TempFolder())
        using (var foreign = TestCertificates.Foreign(folder.Path, intruder.Path, ModuleNames.Gateway))
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => foreign.PostAsJsonAsync(new Uri(serving, "/predict"), Applicant));
        }

        // The service-to-service table: scoring answers the gateway only, whoever the user is.
        using (var asGateway = TestCertificates.Client(folder.Path, ModuleNames.Gateway, up.ApiKey))
        using (var predicted = await asGateway.PostAsJsonAsync(new Uri(serving, "/predict"), Applicant))
        {
            Assert.Equal(HttpStatusCode.OK, predicted.StatusCode);
        }
        using (var asTraining = TestCertificates.Client(folder.Path, ModuleNames.Training, up.ApiKey))
        {
            using var refused = await asTraining.PostAsJsonAsync(new Uri(serving, "/predict"), Applicant);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains("the service 'training' may not call POST /predict", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            // The inference protocol's route answers in its own error shape.
            using var infer = await asTraining.PostAsJsonAsync(new Uri(serving, "/v2/models/seed/infer"), new { inputs = Array.Empty<object>() });
            Assert.Equal(HttpStatusCode.Forbidden, infer.StatusCode);
            Assert.Contains("may not call", JsonDocument.Parse(await infer.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
            // Training calls the registry (it registers what it trains): allowed.
            using var models = await asTraining.GetAsync(new Uri(registry, "/api/registry/models"));
            Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        }
        using (var asData = TestCertificates.Client(folder.Path, ModuleNames.Data, up.ApiKey))
        {
            // The data module never calls the registry; a refused write is audited as the service that asked.
            using var refused = await asData.GetAsync(new Uri(registry, "/api/registry/models"));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            using var write = await asData.PostAsJsonAsync(new Uri(registry, "/api/registry/models/seed/versions"), new { artifact_sha256 = "x" });
            Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
            var audited = await Eventually.ValueAsync(async () => JsonDocument.Parse(await up.Http.GetStringAsync(
                    new Uri("/api/events?topic=security.request_audited&limit=1000", UriKind.Relative))).RootElement.GetProperty("events").EnumerateArray()
                    .Select(e => e.GetProperty("data")).Where(d => d.GetProperty("path").GetString() == "/api/registry/models/seed/versions"
                        && d.GetProperty("principal").GetString() == "service:data").ToList(),
                l => l.Count > 0, TimeSpan.FromSeconds(20), "the refused write audited");
            Assert.Equal(("service:data", "forbidden", 403), (audited[0].GetProperty("principal").GetString(), audited[0].GetProperty("outcome").GetString(),
                audited[0].GetProperty("status").GetInt32()));
        }
        using (var asSupervisor = TestCertificates.Client(folder.Path, ModuleNames.Supervisor, up.ApiKey))
        {
            using var health = await asSupervisor.GetAsync(new Uri(serving, "/health/ready"));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            using var models = await asSupervisor.GetAsync(new Uri(registry, "/api/registry/models"));
            Assert.Equal(HttpStatusCode.Forbidden, models.StatusCode);
        }

        // Rotation under load, twice with a new CA: the first CA is then trusted nowhere. Scoring through the gateway never fails.
        var supervisorFile = Path.Combine(certs, "supervisor.pem");
        var supervisorPem = await File.ReadAllTextAsync(supervisorFile);
        using var retired = X509Certificate2.CreateFromPem(supervisorPem, supervisorPem);
        var servedBefore = await ServerCertificateAsync(folder.Path, serving);
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            var (ok, failed) = (0, new List<string>());
            while (!stop.IsCancellationRequested)
            {
                using var answer = await up.Http.PostAsJsonAsync(new Uri("/predict", UriKind.Relative), Applicant);
                if (answer.StatusCode == HttpStatusCode.OK)
                {
                    ok++;
                }
                else
                {
                    failed.Add($"{(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
                }
            }
            return (ok, failed);
        });
        foreach (var arguments in new[] { new[] { "certs", "rotate", "--ca" }, ["certs", "rotate", "--ca"] })
        {
            var (exit, _, stderr) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), [.. arguments, "--data-dir", folder.Path]);
            Assert.True(exit == 0, stderr);
        }
        // Within a second or two each process reads the new files: the server presents its new certificate, and the
        // first CA's certificates (the test's client made before the rotations) are refused.
        var servedAfter = await Eventually.ValueAsync(() => ServerCertificateAsync(folder.Path, serving), c => c.SerialNumber != servedBefore.SerialNumber,
            TimeSpan.FromSeconds(5), "serving presents its rotated certificate");
        Assert.NotEqual(servedBefore.Issuer, servedAfter.Issuer);
        await Eventually.ValueAsync(async () =>
        {
            try
            {
                using var before = TestCertificates.Presenting(folder.Path, retired);
                using var stale = await before.GetAsync(new Uri(serving, "/health/live"));
                return false;
            }
            catch (HttpRequestException)
            {
                return true;
            }
        }, refused => refused, TimeSpan.FromSeconds(5), "a certificate of the retired CA refused");

        await stop.CancelAsync();
        var (served, failures) = await load;
        Assert.True(served > 0, "no request was served during the rotation");
        Assert.Empty(failures);

        // Serving restarts: the gateway's next connection presents its new certificate, read without a restart.
        var pid = Assert.Single(LocalProcesses.WithArgument(folder.Path), p => File.ReadAllText($"/proc/{p}/cmdline").Contains("serving", StringComparison.Ordinal));
        using (var victim = Process.GetProcessById(pid))
        {
            victim.Kill();
            await victim.WaitForExitAsync();
        }
        (await Eventually.ValueAsync(() => up.Http.PostAsJsonAsync(new Uri("/predict", UriKind.Relative), Applicant),
            r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "predict through the gateway after serving restarted")).Dispose();

        var (listed, json, _) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), "certs", "ls", "--json", "--data-dir", folder.Path);
        Assert.Equal(0, listed);
        var identities = JsonDocument.Parse(json).RootElement.EnumerateArray().Select(c => c.GetProperty("identity").GetString()).Order().ToList();
        Assert.Equal(["data", "events", "features", "gateway", "monitoring", "registry", "security", "serving", "supervisor", "training"], identities);
    }

    /// <summary>The certificate <paramref name="module"/> presents to a new connection.</summary>
    private static async Task<X509Certificate2> ServerCertificateAsync(string dataDirectory, Uri module)
    {
        X509Certificate2? seen = null;
        using var http = TestCertificates.Client(dataDirectory, ModuleNames.Supervisor, seen: c => seen = new X509Certificate2(c));
        using var answer = await http.GetAsync(new Uri(module, "/health/live"));
        return seen ?? throw new InvalidOperationException("no certificate seen");
    }
}
