using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts;
using Strata.Contracts.Security;

namespace Strata.Security.ApiKeys;

/// <summary>The keys as seen by a process that does not host the Security module: a snapshot polled from it every
/// <see cref="SecurityOptions.KeyRefreshInterval"/> (half a second by default, answered 304 while nothing changed), so a
/// revoked key stops working here within a second. Until the first snapshot arrives the process is not ready.</summary>
public sealed partial class RemoteApiKeyDirectory(IHttpClientFactory clients, IOptions<SecurityOptions> options, TimeProvider time,
    ILogger<RemoteApiKeyDirectory> logger) : BackgroundService, IApiKeyDirectory, IHealthCheck
{
    public const string ClientName = "strata-security";

    private volatile Dictionary<string, ApiKeyRecord>? _keys;
    private long _version = -1;

    public bool IsLoaded => _keys is not null;

    public ApiKeyRecord? Find(string id) => _keys?.GetValueOrDefault(id);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(stoppingToken);
                failures = 0;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !stoppingToken.IsCancellationRequested)
            {
                if (failures++ % 20 == 0)
                {
                    LogRefreshFailed(logger, e.Message);
                }
            }
            try
            {
                await Task.Delay(options.Value.KeyRefreshInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, SecurityRoutes.KeySnapshot.TrimStart('/'));
        if (_keys is not null)
        {
            request.Headers.IfNoneMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue($"\"{Interlocked.Read(ref _version)}\""));
        }
        using var http = clients.CreateClient(ClientName);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotModified)
        {
            return;
        }
        response.EnsureSuccessStatusCode();
        var snapshot = await response.Content.ReadFromJsonAsync<KeySnapshot>(StrataJson.Options, cancellationToken)
            ?? throw new System.Text.Json.JsonException("empty key snapshot");
        _keys = snapshot.Keys.ToDictionary(k => k.Info.Id, k => new ApiKeyRecord(k.Info, Convert.FromHexString(k.Sha256)), StringComparer.Ordinal);
        Interlocked.Exchange(ref _version, snapshot.Version);
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(IsLoaded ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("API keys not loaded from the security module yet"));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh API keys from the security module: {Reason}")]
    private static partial void LogRefreshFailed(ILogger logger, string reason);
}
