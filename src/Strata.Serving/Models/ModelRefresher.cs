using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.ServiceDefaults;
using Strata.Contracts.Events;

namespace Strata.Serving.Models;

/// <summary>Keeps <see cref="ModelHost"/> on the versions the served aliases point at: loads them at start, swaps as soon as a
/// <c>model.alias_changed</c> event for a served model and alias arrives, and re-reads the alias every <see cref="ServingOptions.RefreshInterval"/>
/// for the changes no event brings (a registry in another process until a broker joins them). A failed load keeps the
/// current version serving.
/// Every replica of serving keeps its own group (<see cref="Strata.ServiceDefaults.StrataOptions.PerReplica"/>): each must
/// see every change, where a shared group would hand each event to one of them.</summary>
public sealed partial class ModelRefresher(ModelHost host, IEventSubscriber events, TimeProvider time, IOptions<StrataOptions> strata,
    ILogger<ModelRefresher> logger) : BackgroundService
{
    public const string ConsumerGroup = "serving-model-refresher";

    private readonly string _group = strata.Value.PerReplica(ConsumerGroup);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var subscription = await SubscribeAsync(stoppingToken);
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

    /// <summary>Subscribes to alias changes; when the broker cannot be reached yet, polling alone keeps the model current.</summary>
    private async Task<IAsyncDisposable?> SubscribeAsync(CancellationToken stoppingToken)
    {
        try
        {
            var aliases = await events.SubscribeAsync(EventTopics.ModelAliasChanged, _group, async (received, ct) =>
            {
                // A served alias, or one the model's traffic policy names, moved.
                var change = received.DataAs<ModelAliasChangedEvent>();
                if (change is not null && host.IsServed(change.Model) && (host.Options.ServedAliases.Contains(change.Alias)
                    || host.PolicyOf(change.Model)?.Policy.Targets().Contains(Contracts.Registry.TrafficTarget.OfAlias(change.Alias)) == true))
                {
                    await host.RefreshAsync(change.Model, ct);
                }
            }, cancellationToken: stoppingToken);
            var traffic = await events.SubscribeAsync(EventTopics.ModelTrafficChanged, _group, async (received, ct) =>
            {
                if (received.DataAs<ModelTrafficChangedEvent>() is { } change && host.IsServed(change.Model))
                {
                    await host.RefreshAsync(change.Model, ct);
                }
            }, cancellationToken: stoppingToken);
            return new Both(aliases, traffic);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRefreshFailed(logger, "no alias events (" + e.Message + "); polling only");
            return null;
        }
    }

    private sealed class Both(IAsyncDisposable first, IAsyncDisposable second) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await first.DisposeAsync();
            await second.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model refresh failed, keeping the current version: {Reason}")]
    private static partial void LogRefreshFailed(ILogger logger, string reason);
}
