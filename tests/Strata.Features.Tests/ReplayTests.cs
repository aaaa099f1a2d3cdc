using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Contracts;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Events;
using Strata.Events.Http;
using Strata.Events.Inbox;
using Strata.Testing;

namespace Strata.Features.Tests;

/// <summary>Event sourcing: a fresh feature store rebuilt by replaying the <c>card.transactions</c> topic from the
/// audit log to its consumer group ends up with exactly the online values of the store that consumed it live; and
/// the same events handled twice by one store count once, online and offline.</summary>
public sealed class ReplayTests
{
    [Fact]
    public async Task Replay_CardTransactionsIntoAFreshFeatureStore_ReproducesTheOnlineValues()
    {
        using var folder = new TempFolder();
        await using var events = await EventsHost.StartAsync(Path.Combine(folder.Path, "events"));
        using var http = new HttpClient { BaseAddress = events.Url };
        using var inbox = new SqliteInbox(Path.Combine(folder.Path, "inbox.db"), TimeProvider.System, TimeSpan.FromDays(1));
        await using var bus = new EventBus(new HttpEventTransport(new HttpClient { BaseAddress = events.Url }), new CloudEventCodec(TimeProvider.System, "/test"),
            inbox, NullLogger<EventBus>.Instance);
        var cards = Enumerable.Range(0, 12).Select(i => $"card-{i}").ToArray();
        var request = new OnlineFeaturesRequest(new FeatureColumns { ["card_id"] = [.. cards] }, FeatureService: null,
            Features: [.. new[] { "amount_count_10m", "amount_sum_10m", "amount_mean_1h", "amount_max_24h", "amount_min_24h", "amount_count_24h" }.Select(f => "card_stats:" + f)]);
        var start = DateTimeOffset.UtcNow;

        string live;
        DateTimeOffset replayedUntil;
        await using (var original = await InProcessModules.StartAsync(eventsUrl: events.Url))
        {
            await Task.Delay(500); // its stream ingestion joins the "features" group
            // Event times 5-8 minutes ago: every window (10 min and up) holds all of them for the rest of the test.
            var random = new Random(5);
            var rows = Enumerable.Range(0, 300).Select(i => new KeyValuePair<string, object>(cards[i % cards.Length], new
            {
                card_id = cards[i % cards.Length],
                event_timestamp = start.AddMinutes(-8).AddMilliseconds(i * 500).ToString("O", CultureInfo.InvariantCulture),
                amount = Math.Round(random.NextDouble() * 500, 2),
                merchant_category = "5411",
            })).ToList();
            await bus.PublishBatchAsync(EventTopics.CardTransactions, rows);
            var features = original.Get<IFeaturesClient>();
            live = await Eventually.ValueAsync(async () => JsonSerializer.Serialize(await features.GetOnlineFeaturesAsync(request), StrataJson.Options),
                json => Count24h(json) == 300,
                TimeSpan.FromSeconds(30), "all 300 transactions online");
            await Eventually.ValueAsync(async () => (await http.GetFromJsonAsync<JsonElement>("api/events?topic=card.transactions&limit=1000")).GetProperty("events").GetArrayLength(),
                n => n == 300, TimeSpan.FromSeconds(20), "the audit log has the topic");
            var offline = await OfflineCountAsync(features, cards, start);
            Assert.Equal(300, offline);

            // Handled twice (what a crash between the store writes and the inbox would cause; a replay bypasses the
            // inbox): the rows' identity comes from their events, so neither store counts a transaction twice.
            using (var again = await http.PostAsJsonAsync("api/events/replay", new { topic = EventTopics.CardTransactions, group = "features", from = start.AddMinutes(-1) }))
            {
                Assert.Equal(300, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("replayed").GetInt32());
            }
            replayedUntil = DateTimeOffset.UtcNow;
            await bus.PublishAsync(EventTopics.CardTransactions, "card-sentinel", new
            {
                card_id = "card-sentinel",
                event_timestamp = start.AddMinutes(-1).ToString("O", CultureInfo.InvariantCulture),
                amount = 1.0,
                merchant_category = "5411",
            });
            var sentinel = new OnlineFeaturesRequest(new FeatureColumns { ["card_id"] = ["card-sentinel"] }, Features: ["card_stats:amount_count_24h"]);
            await Eventually.ValueAsync(async () => JsonSerializer.Serialize(await features.GetOnlineFeaturesAsync(sentinel), StrataJson.Options),
                json => Count24h(json) == 1, TimeSpan.FromSeconds(30), "the event after the replay handled (so the replay was)");
            Assert.Equal(live, JsonSerializer.Serialize(await features.GetOnlineFeaturesAsync(request), StrataJson.Options));
            Assert.Equal(300, await OfflineCountAsync(features, cards, start));
        }

        // A fresh store (its own folder) joins the same group, which is at the end of the topic: it gets nothing until the replay.
        await using var rebuilt = await InProcessModules.StartAsync(eventsUrl: events.Url);
        await Task.Delay(500);
        var empty = JsonSerializer.Serialize(await rebuilt.Get<IFeaturesClient>().GetOnlineFeaturesAsync(request), StrataJson.Options);
        Assert.Equal(0, Count24h(empty));
        using var replay = await http.PostAsJsonAsync("api/events/replay", new { topic = EventTopics.CardTransactions, group = "features", from = start.AddMinutes(-1), to = replayedUntil });
        Assert.True(replay.IsSuccessStatusCode, await replay.Content.ReadAsStringAsync());
        Assert.Equal(300, (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("replayed").GetInt32());

        var replayed = await Eventually.ValueAsync(async () => JsonSerializer.Serialize(await rebuilt.Get<IFeaturesClient>().GetOnlineFeaturesAsync(request), StrataJson.Options),
            json => Count24h(json) == 300, TimeSpan.FromSeconds(30), "all 300 transactions replayed");
        Assert.Equal(live, replayed);
    }

    /// <summary>Transactions of the cards in the 10 minutes before <paramref name="start"/>, from the offline store.</summary>
    private static async Task<long> OfflineCountAsync(IFeaturesClient features, string[] cards, DateTimeOffset start)
    {
        var result = await features.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest(
            new FeatureColumns { ["card_id"] = [.. cards], ["event_timestamp"] = [.. cards.Select(_ => (object?)start.ToString("O", CultureInfo.InvariantCulture))] },
            Features: ["card_stats:amount_count_10m"]));
        return result.Data!["amount_count_10m"].Sum(v => Convert.ToInt64(v, CultureInfo.InvariantCulture));
    }

    /// <summary>The sum of amount_count_24h over the cards (the last feature of the request).</summary>
    private static long Count24h(string json) =>
        JsonDocument.Parse(json).RootElement.GetProperty("results").EnumerateArray().Last().GetProperty("values").EnumerateArray().Sum(v => v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0);
}
