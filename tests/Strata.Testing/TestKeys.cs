using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts.Security;
using Strata.Security.ApiKeys;

namespace Strata.Testing;

/// <summary>API keys for tests: created in the key store of a host the test runs in process, or read from the file a
/// fresh <c>strata up</c> writes; clients and CLI runs then authenticate as users do.</summary>
public static class TestKeys
{
    /// <summary>A new key with <paramref name="roles"/> (admin when none) in the host's store.</summary>
    public static string Create(IServiceProvider services, params string[] roles)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetRequiredService<ApiKeyStore>().Create(new NewApiKey($"test-{Guid.NewGuid():N}", roles.Length == 0 ? ["admin"] : roles), "test").Key;
    }

    /// <summary>Every request of <paramref name="http"/> presents <paramref name="key"/>.</summary>
    public static HttpClient Authorize(HttpClient http, string key)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>The environment a CLI run needs to present <paramref name="key"/>.</summary>
    public static IReadOnlyDictionary<string, string> Environment(string key) =>
        new Dictionary<string, string> { [SecurityRoutes.ApiKeyVariable] = key };

    /// <summary>The service token of the Strata whose data directory is <paramref name="dataDirectory"/>: for a test that
    /// plays one of its processes (a consumer of the embedded broker's internal routes).</summary>
    public static string ServiceToken(string dataDirectory) => File.ReadAllText(Path.Combine(dataDirectory, "security", "service-token")).Trim();

    /// <summary>The first admin key a fresh <c>strata up</c> wrote into <paramref name="dataDirectory"/>.</summary>
    public static string FromDataDirectory(string dataDirectory) => File.ReadAllText(Path.Combine(dataDirectory, "api-key")).Trim();
}
