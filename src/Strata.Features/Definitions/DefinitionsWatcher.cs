using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Events;
using Strata.Features.Store;

namespace Strata.Features.Definitions;

/// <summary>Keeps this process on the newest applied definitions and acts on each change: reloads when
/// <c>features.definitions_applied</c> announces a version another process applied (and re-checks the folder every
/// <see cref="PollInterval"/> for an announcement it missed), and reads the current version of every dataset source an
/// apply added or changed, so a view over an existing dataset has rows without waiting for its next version.</summary>
public sealed partial class DefinitionsWatcher(FeatureDefinitions definitions, DatasetIngestion datasets, IEventSubscriber events, TimeProvider time,
    ILogger<DefinitionsWatcher> logger) : BackgroundService
{
    public const string ConsumerGroup = "features-definitions";
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var subscription = await SubscribeAsync(stoppingToken);
        var poll = PollAsync(stoppingToken);
        var seen = definitions.Current;
        try
        {
            // A fresh folder's first version (the shipped examples) may name datasets that already exist.
            await datasets.IngestCurrentAsync(seen.Version == 1 ? seen.Sources : [], stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await definitions.NextChange().WaitAsync(stoppingToken);
                var current = definitions.Current;
                var changed = current.Sources.Where(s => s.Dataset is not null && !Same(seen.FindSource(s.Name), s)).ToList();
                seen = current;
                await datasets.IngestCurrentAsync(changed, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await poll;
    }

    private static bool Same(PushSource? before, PushSource after) => before is not null &&
        System.Text.Json.JsonSerializer.Serialize(before, Strata.Contracts.StrataJson.Options) == System.Text.Json.JsonSerializer.Serialize(after, Strata.Contracts.StrataJson.Options);

    private async Task PollAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Reload();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task<IAsyncDisposable?> SubscribeAsync(CancellationToken stoppingToken)
    {
        try
        {
            return await events.SubscribeAsync(EventTopics.FeatureDefinitionsApplied, ConsumerGroup, (_, _) =>
            {
                Reload();
                return Task.CompletedTask;
            }, cancellationToken: stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogReloadFailed(logger, "no definition events (" + e.Message + "); polling only");
            return null;
        }
    }

    private void Reload()
    {
        try
        {
            if (definitions.Reload())
            {
                LogReloaded(logger, definitions.Version);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or InvalidDefinitionsException or System.Text.Json.JsonException)
        {
            LogReloadFailed(logger, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Feature definitions version {Version} taken up")]
    private static partial void LogReloaded(ILogger logger, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feature definitions not reloaded: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string reason);
}
