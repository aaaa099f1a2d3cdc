using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Features;

namespace Strata.Features.Store;

/// <summary>The streaming path of push sources that name a topic: each event (one row object, or an array of rows) is
/// written to the online store at once, through the same validation as <c>POST /push</c>, and buffered for the offline
/// store, which gets one Parquet file per <see cref="FlushRows"/> rows or <see cref="FlushInterval"/> (and on stop).
/// An event that fails validation is logged and skipped: retrying cannot make bad data good.</summary>
public sealed partial class StreamIngestion(FeatureRepository repository, PushService push, IEventSubscriber subscriber, TimeProvider time,
    ILogger<StreamIngestion> logger) : BackgroundService
{
    public const string ConsumerGroup = "features";
    public const int FlushRows = 10_000;
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, List<JsonElement>> _pending = new(StringComparer.Ordinal);
    // Never disposed: the final flush runs as the host stops, possibly after the container disposed this service.
    private readonly SemaphoreSlim _flushLock = new(1, 1);
    private readonly Lock _bufferLock = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscriptions = new List<IAsyncDisposable>();
        try
        {
            foreach (var source in repository.Sources.Where(s => s.Topic is not null))
            {
                subscriptions.Add(await subscriber.SubscribeAsync(source.Topic!, ConsumerGroup, (e, ct) => OnEventAsync(source, e, ct),
                    new SubscriptionOptions { MaxInFlight = 256 }, stoppingToken));
            }
            using var timer = new PeriodicTimer(FlushInterval, time);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var subscription in subscriptions)
            {
                await subscription.DisposeAsync();
            }
            await FlushAsync(CancellationToken.None);
        }
    }

    private async Task OnEventAsync(PushSource source, ReceivedEvent e, CancellationToken cancellationToken)
    {
        var rows = e.Data.ValueKind == JsonValueKind.Array ? [.. e.Data.EnumerateArray().Select(r => r.Clone())] : new List<JsonElement> { e.Data.Clone() };
        FeatureColumns df;
        try
        {
            df = Columns(rows);
            await push.PushAsync(new PushRequest(source.Name, df, PushTargets.Online), announce: false, cancellationToken);
        }
        catch (InputValidationException invalid)
        {
            LogSkipped(logger, e.Id, e.Topic, invalid.Message);
            return;
        }
        bool full;
        lock (_bufferLock)
        {
            if (!_pending.TryGetValue(source.Name, out var buffer))
            {
                buffer = [];
                _pending[source.Name] = buffer;
            }
            buffer.AddRange(rows);
            full = buffer.Count >= FlushRows;
        }
        if (full)
        {
            await FlushAsync(cancellationToken);
        }
    }

    /// <summary>Writes every buffered row to the offline store (one file per source).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushLock.WaitAsync(cancellationToken);
        try
        {
            List<(string Source, List<JsonElement> Rows)> batches;
            lock (_bufferLock)
            {
                batches = [.. _pending.Where(p => p.Value.Count > 0).Select(p => (p.Key, p.Value))];
                _pending.Clear();
            }
            foreach (var (source, rows) in batches)
            {
                try
                {
                    await push.PushAsync(new PushRequest(source, Columns(rows), PushTargets.Offline), announce: true, cancellationToken);
                }
                catch (InputValidationException e)
                {
                    // Cannot happen for rows the online write accepted; if it does, they are reported, not retried.
                    LogFlushFailed(logger, rows.Count, source, e.Message);
                }
                catch (Exception e) when (e is IOException or DependencyUnavailableException)
                {
                    // The disk or a dependency failed: keep the rows for the next flush.
                    LogFlushFailed(logger, rows.Count, source, e.Message + " (kept for the next flush)");
                    lock (_bufferLock)
                    {
                        _pending[source] = _pending.TryGetValue(source, out var newer) ? [.. rows, .. newer] : rows;
                    }
                }
            }
        }
        finally
        {
            _flushLock.Release();
        }
    }

    /// <summary>Row objects to columns; a column a row lacks is null there (and rejected if required).</summary>
    private static FeatureColumns Columns(List<JsonElement> rows)
    {
        var df = new FeatureColumns();
        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r].ValueKind != JsonValueKind.Object)
            {
                throw new InputValidationException("data", $"row {r} is not a JSON object");
            }
            foreach (var property in rows[r].EnumerateObject())
            {
                if (!df.TryGetValue(property.Name, out var column))
                {
                    column = [.. Enumerable.Repeat<object?>(null, r)];
                    df[property.Name] = column;
                }
                column.Add(property.Value);
            }
            foreach (var column in df.Values)
            {
                if (column.Count == r)
                {
                    column.Add(null);
                }
            }
        }
        return df;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped event {Id} on {Topic}: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string id, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not write {Rows} streamed rows of {Source} to the offline store: {Reason}")]
    private static partial void LogFlushFailed(ILogger logger, int rows, string source, string reason);
}
