using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Strata.Serving.Models;

/// <summary>Keeps <see cref="ModelHost"/> on the version the alias points at: loads it at start, then re-reads the
/// alias every <see cref="ServingOptions.RefreshInterval"/>. A failed load keeps the current version serving.</summary>
public sealed partial class ModelRefresher(ModelHost host, TimeProvider time, ILogger<ModelRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(host.Options.RefreshInterval, time);
        do
        {
            try
            {
                await host.RefreshAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogRefreshFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model refresh failed, keeping the current version: {Reason}")]
    private static partial void LogRefreshFailed(ILogger logger, string reason);
}
