using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Features.Definitions;

namespace Strata.Features.Store;

/// <summary>The streaming path of push sources that name a topic: the events of one fetch (each one row object, or an
/// array of rows) are written to the online and the offline store together, through the same validation as
/// <c>POST /push</c>, before the bus acknowledges them, so a crash loses nothing (the offline store gets one Parquet
/// file per fetched batch; its compaction merges them). Each row's created time is derived from its event, so an event
/// handled twice (redelivered after a crash between the writes and the inbox, or replayed) adds nothing: both stores
/// identify a row by (key, event time, created time). When a batch fails validation, each event is tried alone and
/// the bad ones go to the dead letters; the stream keeps flowing.</summary>
public sealed class StreamIngestion(IFeatureRepositorySource definitions, PushService push, IEventSubscriber subscriber, TimeProvider time) : BackgroundService
{
    private FeatureRepository Repository => definitions.Current;

    public const string ConsumerGroup = "features";
    public const int MaxBatchEvents = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // One subscription per streamed source, kept in step with the definitions as they are applied.
        var subscriptions = new Dictionary<(string Source, string Topic), IAsyncDisposable>();
        try
        {
            while (true)
            {
                var changed = definitions is FeatureDefinitions applied ? applied.NextChange() : null;
                var wanted = Repository.Sources.Where(s => s.Topic is not null).Select(s => (s.Name, s.Topic!)).ToHashSet();
                foreach (var gone in subscriptions.Keys.Where(k => !wanted.Contains(k)).ToList())
                {
                    await subscriptions[gone].DisposeAsync();
                    subscriptions.Remove(gone);
                }
                foreach (var (name, topic) in wanted.Where(w => !subscriptions.ContainsKey(w)))
                {
                    subscriptions[(name, topic)] = await subscriber.SubscribeBatchAsync(topic, ConsumerGroup, (events, ct) => OnEventsAsync(name, events, ct),
                        new SubscriptionOptions { MaxInFlight = MaxBatchEvents, FromStart = true }, stoppingToken);
                }
                await (changed ?? Task.Delay(Timeout.Infinite, stoppingToken)).WaitAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var subscription in subscriptions.Values)
            {
                await subscription.DisposeAsync();
            }
        }
    }

    private async Task OnEventsAsync(string sourceName, IReadOnlyList<ReceivedEvent> events, CancellationToken cancellationToken)
    {
        if (Repository.FindSource(sourceName) is not { Topic: not null } source)
        {
            return; // the source was removed (or no longer streamed) since the events were fetched
        }
        var rows = new List<JsonElement>();
        var created = new List<long>();
        foreach (var e in events)
        {
            // A row's identity (its created time) comes from the event that carried it: the event's time plus the
            // row's place in it, so a redelivered or replayed event writes rows both stores already hold.
            var first = e.Time is { } t ? FeatureValues.Micros(t) : FeatureValues.Micros(time.GetUtcNow());
            if (e.Data.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var row in e.Data.EnumerateArray())
                {
                    created.Add(first + index++);
                    rows.Add(row);
                }
            }
            else
            {
                created.Add(first);
                rows.Add(e.Data);
            }
        }
        await push.PushAsync(new PushRequest(source.Name, Columns(rows), PushTargets.OnlineAndOffline), announce: true, created, cancellationToken);
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

}
