using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Strata.Security.Limits;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Strata.Contracts;
using Strata.Security.ApiKeys;
using Strata.Security.Certificates;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Modules;
using Strata.ServiceDefaults.Security;

namespace Strata.Security;

/// <summary>The Security module owns the API keys (<c>security/keys.db</c>) and their endpoints. Every Strata process,
/// whichever modules it hosts, authenticates and authorizes its requests (<see cref="AddStrataAccess"/>): with the key
/// store itself where this module is hosted, with a snapshot polled from it elsewhere.</summary>
public static class SecurityModule
{
    public static ModuleDescriptor Descriptor { get; } = new()
    {
        Name = ModuleNames.Security,
        UrlPrefixes = [Contracts.Security.SecurityRoutes.Prefix],
        Authorization = SecurityApi.Authorization,
        AddServices = c =>
        {
            c.Services.AddSingleton(sp => new ApiKeyStore(Path.Combine(sp.GetRequiredService<IOptions<StrataOptions>>().Value.ModuleDirectory("security"), "keys.db"),
                sp.GetRequiredService<TimeProvider>()));
            c.Services.AddSingleton<IApiKeyDirectory>(sp => sp.GetRequiredService<ApiKeyStore>());
            c.Services.AddHostedService<AdminKeyBootstrap>();
        },
        MapEndpoints = app => app.MapSecurityApi(),
        AddHttpClient = (c, url) =>
        {
            var baseAddress = ModuleClients.RequireUrl(ModuleNames.Security, url);
            c.Services.AddHttpClient(RemoteApiKeyDirectory.ClientName, h =>
            {
                h.BaseAddress = baseAddress;
                h.Timeout = TimeSpan.FromSeconds(5);
            }).AddServiceCredential(ModuleNames.Security);
            c.Services.AddSingleton<RemoteApiKeyDirectory>();
            c.Services.AddSingleton<IApiKeyDirectory>(sp => sp.GetRequiredService<RemoteApiKeyDirectory>());
            c.Services.AddHostedService(sp => sp.GetRequiredService<RemoteApiKeyDirectory>());
            c.Services.AddHealthChecks().AddCheck<RemoteApiKeyDirectory>("api-keys", Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy,
                [ServiceDefaultsExtensions.ReadyTag]);
        },
    };

    /// <summary>What every process needs to check credentials: the service token, the authentication schemes (API keys;
    /// JWTs when an issuer is configured), the authorization table of <paramref name="catalog"/> and the auditor.</summary>
    /// <param name="frontDoor">The process serves the dashboard: it offers the OIDC sign-in when one is configured.</param>
    public static IServiceCollection AddStrataAccess(this IServiceCollection services, IConfiguration configuration, string process,
        IReadOnlyList<ModuleDescriptor> catalog, MutualTls? inboundTls = null, bool frontDoor = false)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section)
            .Validate(o => o.KeyRefreshInterval > TimeSpan.Zero, "Strata:Security:KeyRefreshInterval must be positive").ValidateOnStart();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SecurityOptions>>().Value;
            var file = options.ServiceTokenFile ?? Path.Combine(sp.GetRequiredService<IOptions<StrataOptions>>().Value.ModuleDirectory("security"), "service-token");
            return new ServiceToken(file, process);
        });
        services.AddSingleton<IServiceCredential>(sp => sp.GetRequiredService<ServiceToken>());
        var publicRoutes = configuration.GetSection(SecurityOptions.Section + ":PublicRoutes").Get<string[]>() ?? [];
        // Rows of the table opened to anyone (Strata:Security:PublicRoutes:0 = "POST /predict"), e.g. a scoring route
        // behind an edge of your own that authenticates; said at every start.
        services.AddSingleton(new AccessTable(catalog, publicRoutes));
        services.AddHostedService<PublicRoutesNotice>();
        var jwt = configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>()?.Jwt ?? new SecurityOptions.JwtOptions();
        services.AddSingleton(new SecurityRuntime(process, !string.IsNullOrWhiteSpace(jwt.Authority), inboundTls));
        services.AddSingleton<RequestAuditor>();
        services.AddOptions<WebOptions>().BindConfiguration(WebOptions.Section)
            .Validate(o => o.CorsOrigins.All(origin => Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.AbsolutePath == "/" && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)),
                "Strata:Web:CorsOrigins must be origins like https://app.example.com (scheme, host, optional port; no path)")
            .ValidateOnStart();
        services.TryAddSingleton(sp => new WebSafetyPolicy(sp.GetRequiredService<IOptions<WebOptions>>(), listensOnLoopback: true));
        var corsOrigins = configuration.GetSection(WebOptions.Section + ":CorsOrigins").Get<string[]>() ?? [];
        if (corsOrigins.Length > 0)
        {
            services.AddCors(o => o.AddPolicy(CorsPolicy, p => p.WithOrigins([.. corsOrigins.Select(c => c.TrimEnd('/'))]).AllowAnyHeader().AllowAnyMethod()
                .WithExposedHeaders("X-Model-Version", "Retry-After", "WWW-Authenticate", "Location")));
        }
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section)
            .Validate(o => o.MaxConcurrentRequests >= 0, "Strata:Limits:MaxConcurrentRequests must be 0 (off) or more").ValidateOnStart();

        // Data protection encrypts the dashboard's session cookies (and anti-forgery tokens): its key ring stays in memory
        // rather than in an unencrypted key file under the user's home; a restart signs browsers out.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddSingleton<CredentialValidator>();
        services.AddSingleton<BrowserSessions>();
        services.AddSingleton<IBrowserSessions>(sp => sp.GetRequiredService<BrowserSessions>());
        // JWTs go through ASP.NET Core's JWT bearer handler (discovery, JWKS caching and rotation). Registered only when an
        // issuer is configured: any registered scheme makes the host add its authentication middleware to every request.
        if (!string.IsNullOrWhiteSpace(jwt.Authority))
        {
            services.AddAuthentication().AddJwtBearer(ApiKeyAuthentication.JwtScheme, o => JwtRoles.Configure(o, jwt));
        }
        var oidc = configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>()?.Oidc ?? new SecurityOptions.OidcOptions();
        if (frontDoor && !string.IsNullOrWhiteSpace(oidc.Authority))
        {
            OidcSignIn.Add(services, oidc);
        }
        return services;
    }

    /// <summary>The process's mutual TLS when <c>Strata:Security:Mtls:Enabled</c> is set: its identity is
    /// <c>Strata:Security:Mtls:Identity</c>, else <paramref name="defaultIdentity"/> (the one module or the gateway it
    /// hosts); the certificates are under <c>Strata:Security:Mtls:Directory</c>, else the data directory's
    /// <c>security/certs</c>.</summary>
    public static MutualTls? CreateMutualTls(IConfiguration configuration, string dataDirectory, string? defaultIdentity)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.GetSection(SecurityOptions.Section + ":Mtls").Get<SecurityOptions.MtlsOptions>() ?? new SecurityOptions.MtlsOptions();
        if (!options.Enabled)
        {
            return null;
        }
        var identity = options.Identity ?? defaultIdentity
            ?? throw new ArgumentException("Strata:Security:Mtls:Enabled is set, but this process has no one service identity: mutual TLS is between the processes of the microservices topology, one module (or the gateway) each; set Strata:Security:Mtls:Identity to choose one");
        return new MutualTls(options.Directory ?? ServiceCertificates.DefaultDirectory(dataDirectory), identity, TimeProvider.System);
    }

    private const string CorsPolicy = "strata-cors";

    /// <summary>After routing, before the endpoint: answers CORS preflights for the configured origins (none by default),
    /// refuses foreign host names and cross-site writes (<see cref="WebSafety"/>), sheds load beyond the concurrency limit,
    /// checks the request against the authorization table, then against its principal's rate limit.</summary>
    public static IApplicationBuilder UseStrataAccess(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ApplicationServices.GetRequiredService<IOptions<WebOptions>>().Value.CorsOrigins.Count > 0)
        {
            app.UseCors(CorsPolicy);
        }
        return app.UseMiddleware<WebSafety>().UseMiddleware<LoadShedding>().UseMiddleware<AccessMiddleware>().UseMiddleware<RateLimiting>();
    }

    /// <summary>On a fresh data directory, the first admin key, written for whoever started Strata (see <see cref="ApiKeyStore.Bootstrap"/>).</summary>
    private sealed class AdminKeyBootstrap(ApiKeyStore store, IOptions<SecurityOptions> options, IOptions<StrataOptions> strata) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            store.Bootstrap(AdminKeyFile(options.Value, strata.Value));
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Where a fresh Strata writes its first admin key (<c>api-key</c> in the data directory by default).</summary>
    public static string AdminKeyFile(SecurityOptions options, StrataOptions strata)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(strata);
        return options.AdminKeyFile ?? Path.Combine(Path.GetFullPath(strata.DataDirectory), "api-key");
    }
}
