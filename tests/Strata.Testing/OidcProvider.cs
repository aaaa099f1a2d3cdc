using System.Net.Sockets;
using System.Text;

namespace Strata.Testing;

/// <summary>A real OpenID Connect provider (panva's oidc-provider on Node.js, from <c>tests/oidc-provider</c>) on a free
/// loopback port: client <see cref="ClientId"/> with a secret made for this run, accounts <c>alice</c> (model-admin),
/// <c>rita</c> (reader) and <c>nobody</c> (no role), signed in through its development login and consent pages.</summary>
public sealed class OidcProvider : ServerProcess
{
    public const string ClientId = "strata-dashboard";
    private const string Folder_ = "tests/oidc-provider";
    private readonly string _redirectUri;

    private OidcProvider(string node, int port, string redirectUri) : base(node, port) => _redirectUri = redirectUri;

    public string ClientSecret { get; } = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));

    public string Issuer => $"http://127.0.0.1:{Port}";

    /// <summary>The configuration that makes Strata (every process) offer this provider's sign-in on the dashboard.</summary>
    public IReadOnlyDictionary<string, string> StrataEnvironment => new Dictionary<string, string>
    {
        ["Strata__Security__Oidc__Authority"] = Issuer,
        ["Strata__Security__Oidc__ClientId"] = ClientId,
        ["Strata__Security__Oidc__ClientSecret"] = ClientSecret,
        ["Strata__Security__Oidc__RequireHttpsMetadata"] = "false",
        ["Strata__Security__Oidc__DisplayName"] = "Test IdP",
    };

    /// <param name="redirectUri">Strata's callback: <c>http://127.0.0.1:{port}/ui/sign-in/oidc/callback</c>.</param>
    public static async Task<OidcProvider> StartAsync(string redirectUri)
    {
        // npm ci of the provider's folder (the lock file pins it); null without Node.js, an error under CI.
        if (await NodeScript.PrepareAsync(Folder_) is null)
        {
            throw new InvalidOperationException(NodeScript.InstallHint);
        }
        var node = Find("node", NodeScript.InstallHint) ?? throw new InvalidOperationException(NodeScript.InstallHint);
        return await StartOnFreePortAsync(port => new OidcProvider(node, port, redirectUri));
    }

    protected override IEnumerable<string> Arguments() =>
        [Path.Combine(StrataExecutable.RepositoryRoot, Folder_, "provider.mjs"), Port.ToString(System.Globalization.CultureInfo.InvariantCulture), _redirectUri, ClientSecret];

    protected override async Task<bool> IsReadyAsync(NetworkStream stream)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: 127.0.0.1:{Port}\r\nConnection: close\r\n\r\n"));
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("HTTP/1.1 200", StringComparison.Ordinal);
    }
}
