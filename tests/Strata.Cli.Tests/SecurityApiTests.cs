using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Strata.Contracts.Security;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>The keys API: admin only, refused input named and changing nothing, a secret shown once and stored only as a
/// hash, revocation at once; state-changing requests in the audit log; <c>strata keys</c> on top.</summary>
public sealed class SecurityApiTests(UnseededMonolithFixture fixture) : IClassFixture<UnseededMonolithFixture>
{
    private HttpClient Admin => fixture.Http;

    private HttpClient As(string key) => TestKeys.Authorize(new HttpClient { BaseAddress = fixture.Http.BaseAddress }, key);

    private async Task<CreatedApiKey> CreateAsync(string name, params string[] roles)
    {
        using var response = await Admin.PostAsJsonAsync("/api/security/keys", new NewApiKey(name, roles), StrataJson.Options);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreatedApiKey>(StrataJson.Options))!;
    }

    [Fact]
    public async Task Create_ShowsTheSecretOnce_StoresOnlyItsHash_AndTheKeyWorks()
    {
        var created = await CreateAsync($"reader-{Guid.NewGuid():N}", "reader");
        Assert.StartsWith($"strata_{created.Info.Id}_", created.Key, StringComparison.Ordinal);

        var listed = await Admin.GetStringAsync(new Uri("/api/security/keys", UriKind.Relative));
        Assert.Contains(created.Info.Id, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(created.Key[^20..], listed, StringComparison.Ordinal);
        var folder = fixture.App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Strata.ServiceDefaults.StrataOptions>>().Value.ModuleDirectory("security");
        foreach (var file in Directory.GetFiles(folder))
        {
            Assert.DoesNotContain(created.Key[^43..], Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file)), StringComparison.Ordinal);
        }

        using var reader = As(created.Key);
        var me = await reader.GetFromJsonAsync<Principal>("/api/security/whoami", StrataJson.Options);
        Assert.Equal((created.Info.Name, "api-key", created.Info.Id), (me!.Name, me.Kind, me.KeyId));
        Assert.Equal(["read", "authenticated", "read-metrics"], me.Permissions);
    }

    [Fact]
    public async Task Revoke_StopsTheKeyAtOnce_AndIsAudited()
    {
        var created = await CreateAsync($"short-{Guid.NewGuid():N}", "reader");
        using var reader = As(created.Key);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(new Uri("/api/data/datasets", UriKind.Relative))).StatusCode);

        using var revoked = await Admin.DeleteAsync(new Uri($"/api/security/keys/{created.Info.Id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);

        using var after = await reader.GetAsync(new Uri("/api/data/datasets", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Contains("revoked", after.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        // Revoking twice changes nothing; an unknown id is a 404.
        Assert.Equal(HttpStatusCode.OK, (await Admin.DeleteAsync(new Uri($"/api/security/keys/{created.Info.Id}", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.DeleteAsync(new Uri("/api/security/keys/nope", UriKind.Relative))).StatusCode);

        var audited = await Eventually.ValueAsync(async () => JsonDocument.Parse(await Admin.GetStringAsync(
                new Uri($"/api/events?topic={Strata.Contracts.Events.EventTopics.RequestAudited}&limit=1000", UriKind.Relative))).RootElement.GetProperty("events")
                .EnumerateArray().Select(e => e.GetProperty("data")).ToList(),
            events => events.Any(e => e.GetProperty("path").GetString() == $"/api/security/keys/{created.Info.Id}"), TimeSpan.FromSeconds(20), "the revocation audited");
        var record = audited.First(e => e.GetProperty("path").GetString() == $"/api/security/keys/{created.Info.Id}");
        Assert.Equal("DELETE", record.GetProperty("method").GetString());
        Assert.Equal("DELETE /api/security/keys/{id}", record.GetProperty("route").GetString());
        Assert.Equal("allowed", record.GetProperty("outcome").GetString());
        Assert.Equal(200, record.GetProperty("status").GetInt32());
        Assert.Equal("127.0.0.1", record.GetProperty("remote_address").GetString());
        Assert.StartsWith("test-", record.GetProperty("principal").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForbiddenStateChange_IsAuditedAsForbidden_ReadsAreNot()
    {
        var created = await CreateAsync($"nosy-{Guid.NewGuid():N}", "reader");
        using var reader = As(created.Key);
        using var refused = await reader.PostAsync(new Uri("/api/events/replay", UriKind.Relative), new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        await reader.GetAsync(new Uri("/api/data/datasets", UriKind.Relative));

        var mine = await Eventually.ValueAsync(async () => JsonDocument.Parse(await Admin.GetStringAsync(
                new Uri($"/api/events?topic={Strata.Contracts.Events.EventTopics.RequestAudited}&subject={created.Info.Name}", UriKind.Relative))).RootElement
                .GetProperty("events").EnumerateArray().Select(e => e.GetProperty("data")).ToList(),
            events => events.Count > 0, TimeSpan.FromSeconds(20), "the refused replay audited");
        var record = Assert.Single(mine);
        Assert.Equal(("forbidden", 403, "POST /api/events/replay"), (record.GetProperty("outcome").GetString(), record.GetProperty("status").GetInt32(),
            record.GetProperty("route").GetString()));
    }

    [Theory]
    [InlineData("{\"roles\":[\"reader\"]}", "name")]
    [InlineData("{\"name\":\"bad name!\",\"roles\":[\"reader\"]}", "name")]
    [InlineData("{\"name\":\"n1\"}", "roles")]
    [InlineData("{\"name\":\"n1\",\"roles\":[]}", "roles")]
    [InlineData("{\"name\":\"n1\",\"roles\":[\"root\"]}", "roles")]
    [InlineData("{\"name\":\"n1\",\"roles\":[\"service\"]}", "roles")]
    [InlineData("{\"name\":\"n1\",\"roles\":[\"reader\"],\"expires_in_days\":0}", "expires_in_days")]
    [InlineData("{\"name\":\"n1\",\"roles\":[\"reader\"],\"expires_in_days\":1e9}", "expires_in_days")]
    [InlineData("{\"name\":\"n1\",\"roles\":[\"reader\"],\"expires_at\":\"2001-01-01T00:00:00Z\"}", "expires_at")]
    [InlineData("{\"name\":\"n1\",\"roles\":[\"reader\"],\"expires_at\":\"2001-01-01T00:00:00Z\",\"expires_in_days\":3}", "expires_at")]
    [InlineData("{\"name\":\"n1\",\"roles\":\"reader\"}", "roles")]
    [InlineData("not json", "body")]
    public async Task Create_BadInput_Is400NamingTheField_AndCreatesNothing(string body, string field)
    {
        var before = await Admin.GetStringAsync(new Uri("/api/security/keys", UriKind.Relative));
        using var response = await Admin.PostAsync(new Uri("/api/security/keys", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
        Assert.Equal(before, await Admin.GetStringAsync(new Uri("/api/security/keys", UriKind.Relative)));
    }

    [Fact]
    public async Task Create_NameOfAnActiveKey_Is409_UntilThatKeyIsRevoked()
    {
        var name = $"dup-{Guid.NewGuid():N}";
        var first = await CreateAsync(name, "reader");
        using var conflict = await Admin.PostAsJsonAsync("/api/security/keys", new NewApiKey(name, ["reader"]), StrataJson.Options);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        await Admin.DeleteAsync(new Uri($"/api/security/keys/{first.Info.Id}", UriKind.Relative));
        await CreateAsync(name, "reader");
    }

    [Fact]
    public async Task KeysApi_ForNonAdmins_Is403()
    {
        var created = await CreateAsync($"ma-{Guid.NewGuid():N}", "model-admin");
        using var modelAdmin = As(created.Key);
        Assert.Equal(HttpStatusCode.Forbidden, (await modelAdmin.GetAsync(new Uri("/api/security/keys", UriKind.Relative))).StatusCode);
        using var escalate = await modelAdmin.PostAsJsonAsync("/api/security/keys", new NewApiKey("escalate", ["admin"]), StrataJson.Options);
        Assert.Equal(HttpStatusCode.Forbidden, escalate.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await modelAdmin.GetAsync(new Uri("/api/security/key-snapshot", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task KeysCommand_CreatesListsAndRevokes_AsTableAndJson()
    {
        var name = $"cli-{Guid.NewGuid():N}";
        var (exit, stdout, stderr) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), fixture.CliEnvironment,
            "keys", "create", name, "--role", "reader", "--role", "predictor", "--expires-in-days", "7", "--json", "--url", fixture.Http.BaseAddress!.ToString());
        Assert.True(exit == 0, stderr);
        var created = JsonSerializer.Deserialize<CreatedApiKey>(stdout, StrataJson.Options)!;
        Assert.Equal(["reader", "predictor"], created.Info.Roles);
        Assert.NotNull(created.Info.ExpiresAt);

        (exit, stdout, stderr) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), fixture.CliEnvironment, "keys", "ls", "--json", "--url", fixture.Http.BaseAddress!.ToString());
        Assert.True(exit == 0, stderr);
        Assert.Contains(JsonSerializer.Deserialize<List<ApiKeyInfo>>(stdout, StrataJson.Options)!, k => k.Id == created.Info.Id && k.State(DateTimeOffset.UtcNow) == "active");
        Assert.DoesNotContain(created.Key[^43..], stdout, StringComparison.Ordinal);
        (exit, stdout, stderr) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), fixture.CliEnvironment, "keys", "ls", "--url", fixture.Http.BaseAddress!.ToString());
        Assert.True(exit == 0, stderr);
        Assert.Contains("state", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(created.Key[^43..], stdout, StringComparison.Ordinal);

        (exit, stdout, stderr) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), TestKeys.Environment(created.Key), "keys", "whoami", "--url",
            fixture.Http.BaseAddress!.ToString());
        Assert.True(exit == 0, stderr);
        Assert.Contains(name, stdout, StringComparison.Ordinal);

        (exit, _, stderr) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), fixture.CliEnvironment, "keys", "revoke", created.Info.Id, "--url",
            fixture.Http.BaseAddress!.ToString());
        Assert.True(exit == 0, stderr);
        (exit, _, stderr) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), TestKeys.Environment(created.Key), "keys", "whoami", "--url",
            fixture.Http.BaseAddress!.ToString());
        Assert.Equal(1, exit);
        Assert.Contains("not authenticated", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(created.Key, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trainer_TrainsWithoutPromoting_MovingAnAliasNeedsManageModels()
    {
        var created = await CreateAsync($"trainer-{Guid.NewGuid():N}", "trainer");
        using var trainer = As(created.Key);
        // The default request moves champion: a promotion.
        using var promote = await trainer.PostAsync(new Uri("/api/training/jobs", UriKind.Relative),
            new StringContent("{\"dataset\": \"no-such-dataset\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, promote.StatusCode);
        Assert.Contains("manage-models", await promote.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var register = await trainer.PostAsync(new Uri("/api/training/jobs", UriKind.Relative),
            new StringContent("{\"dataset\": \"no-such-dataset\", \"alias\": null}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, register.StatusCode);
        using var seedTrain = await trainer.PostAsync(new Uri("/train", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Forbidden, seedTrain.StatusCode);
    }
}
