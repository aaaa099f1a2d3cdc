using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Strata.Contracts;
using Strata.Contracts.Security;
using Strata.Testing;

namespace Strata.EndToEnd.Tests;

/// <summary>Security as users meet it, in each topology: nothing answers without credentials, at the front door or (in
/// microservices) at any module's own port; roles decide; a revoked key stops working within a second in every
/// process; the revocation is in the audit log; and no secret the run used reaches a log.</summary>
public sealed partial class SecurityScenarioTests
{
    [Theory]
    [InlineData("monolith")]
    [InlineData("microservices")]
    public async Task Up_KeysRolesRevocationAudit_InEveryProcess(string topology)
    {
        using var folder = new TempFolder();
        await using var up = await StrataUp.StartAsync(topology, folder.Path);
        // Every process of the topology: the front door, and each module's own port in microservices.
        var services = Services(up.Output);
        var ports = services.Values.Where(u => u != up.Http.BaseAddress).Prepend(up.Http.BaseAddress!).ToList();
        Assert.Equal(topology == "microservices" ? 9 : 1, ports.Count);

        // A module's own port speaks mutual TLS only: these clients present the gateway's certificate (the test plays the
        // gateway, which forwards users' credentials) and still need a user's key (MutualTlsScenarioTests covers the rest).
        HttpClient ClientOf(Uri port, string? key) => port.Scheme == Uri.UriSchemeHttps
            ? TestCertificates.Client(folder.Path, ModuleNames.Gateway, key)
            : key is null ? new HttpClient { Timeout = TimeSpan.FromSeconds(30) } : TestKeys.Authorize(new HttpClient { Timeout = TimeSpan.FromSeconds(30) }, key);
        foreach (var port in ports)
        {
            using var anonymous = ClientOf(port, key: null);
            using var refused = await anonymous.GetAsync(new Uri(port, "/api/registry/models"));
            Assert.True(refused.StatusCode == HttpStatusCode.Unauthorized, $"{port} answered {(int)refused.StatusCode} without credentials");
            using var health = await anonymous.GetAsync(new Uri(port, "/health/live"));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        // At the front door (in microservices, the gateway refuses before proxying), a protocol's paths answer 401 in the
        // protocol's own error shape: MLflow clients and inference clients parse what they get.
        using (var anonymous = new HttpClient { BaseAddress = up.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(30) })
        {
            using var mlflow = await anonymous.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = "x" });
            Assert.Equal(HttpStatusCode.Unauthorized, mlflow.StatusCode);
            Assert.Equal("UNAUTHENTICATED", JsonDocument.Parse(await mlflow.Content.ReadAsStringAsync()).RootElement.GetProperty("error_code").GetString());
            using var infer = await anonymous.PostAsJsonAsync("/v2/models/seed/infer", new { inputs = Array.Empty<object>() });
            Assert.Equal(HttpStatusCode.Unauthorized, infer.StatusCode);
            Assert.True(JsonDocument.Parse(await infer.Content.ReadAsStringAsync()).RootElement.TryGetProperty("error", out _), "OIP error shape");
            using var data = await anonymous.GetAsync(new Uri("/api/data/datasets", UriKind.Relative));
            Assert.Equal("application/problem+json", data.Content.Headers.ContentType?.MediaType);
        }

        using var created = await up.Http.PostAsJsonAsync("/api/security/keys", new NewApiKey("e2e-reader", ["reader"]), StrataJson.Options);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var reader = (await created.Content.ReadFromJsonAsync<CreatedApiKey>(StrataJson.Options))!;
        var asReaderAt = ports.ToDictionary(p => p, p => ClientOf(p, reader.Key));
        var asReader = asReaderAt[ports[0]];
        // Every process learns of the new key (within the refresh interval), and applies the reader's role.
        var registryPort = services.GetValueOrDefault("registry") ?? ports[0];
        (await Eventually.ValueAsync(() => asReaderAt[registryPort].GetAsync(new Uri(registryPort, "/api/registry/models")), r => r.StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10), "the new key known at the registry")).Dispose();
        using (var models = await asReader.GetAsync(new Uri(ports[0], "/api/registry/models")))
        {
            Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        }
        using (var predict = await asReader.PostAsJsonAsync(new Uri(ports[0], "/predict"), new { age = 35, income = 50000 }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, predict.StatusCode);
        }

        // Revoked: within a second, refused by every process.
        using (var revoked = await up.Http.DeleteAsync(new Uri($"/api/security/keys/{reader.Info.Id}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }
        // Every process polls on its own: each is asked at once, in parallel, so what is measured is the revocation
        // reaching it, not the time this loop spends asking the ones before it.
        var clock = Stopwatch.StartNew();
        var refusedAfter = await Task.WhenAll(ports.Select(async port =>
        {
            while (true)
            {
                using var answer = await asReaderAt[port].GetAsync(new Uri(port, "/api/security/whoami"));
                if (answer.StatusCode == HttpStatusCode.Unauthorized)
                {
                    return (Port: port, Milliseconds: clock.ElapsedMilliseconds);
                }
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"{port} still accepted the revoked key after {clock.ElapsedMilliseconds} ms");
                await Task.Delay(20);
            }
        }));
        Assert.All(refusedAfter, r => Assert.True(r.Milliseconds < 1000, $"{r.Port} refused the revoked key only after {r.Milliseconds} ms"));

        // The audit log has the revocation: who, what, from where, the outcome.
        var audited = await Eventually.ValueAsync(async () => JsonDocument.Parse(await up.Http.GetStringAsync(
                new Uri("/api/events?topic=security.request_audited&limit=1000", UriKind.Relative))).RootElement.GetProperty("events").EnumerateArray()
                .Select(e => e.GetProperty("data")).Where(d => d.GetProperty("path").GetString() == $"/api/security/keys/{reader.Info.Id}").ToList(),
            l => l.Count > 0, TimeSpan.FromSeconds(20), "the revocation audited");
        Assert.Equal(("admin", "DELETE", "allowed"), (audited[0].GetProperty("principal").GetString(), audited[0].GetProperty("method").GetString(),
            audited[0].GetProperty("outcome").GetString()));

        foreach (var client in asReaderAt.Values)
        {
            client.Dispose();
        }

        // No secret reaches a log: the keys and the service token appear nowhere but in the one line that hands the
        // first admin key to whoever started Strata.
        await up.StopAsync(TimeSpan.FromSeconds(30));
        var secrets = new[] { up.ApiKey, reader.Key, TestKeys.ServiceToken(folder.Path) };
        var output = string.Join('\n', up.Output.Split('\n').Where(l => !l.StartsWith("export STRATA_API_KEY=", StringComparison.Ordinal)));
        var logs = Directory.Exists(Path.Combine(folder.Path, "logs"))
            ? Directory.GetFiles(Path.Combine(folder.Path, "logs")).Select(File.ReadAllText).ToList()
            : [];
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
            Assert.DoesNotContain(secret[^30..], output, StringComparison.Ordinal);
            foreach (var log in logs)
            {
                Assert.DoesNotContain(secret[^30..], log, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>The services table <c>strata up</c> prints: service name to URL.</summary>
    internal static Dictionary<string, Uri> Services(string output) =>
        ServiceRow().Matches(output).ToDictionary(m => m.Groups[1].Value, m => new Uri(m.Groups[2].Value));

    [GeneratedRegex(@"│ ([a-z][^│]*?)\s*│ (https?://127\.0\.0\.1:\d+/)\s*│")]
    private static partial Regex ServiceRow();
}
