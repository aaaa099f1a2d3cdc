using Strata.Contracts.Features;
using Strata.Features.Store;
using Strata.Testing;

namespace Strata.Features.Tests;

/// <summary>No training/serving skew: a stream is replayed into the online store in time order; at sampled moments the
/// online value is read as it stood then. Afterwards the same events are in the offline store and point-in-time
/// retrieval for the same (entity, moment) pairs must return the same value, for every feature, for every sample.</summary>
public abstract class ParityTests
{
    protected abstract Task<InProcessModules> StartAsync();

    [SkippableFact]
    public async Task Replay_OfflinePointInTimeEqualsWhatTheOnlineStoreHeld_ForEverySample()
    {
        await using var modules = await StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var server = modules.Get<OnlineFeatureServer>();
        var random = new Random(11);
        var start = new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero);
        var cards = Enumerable.Range(0, 15).Select(i => $"card-{i}").ToArray();
        // Transactions in bursts (so 10 min windows hold several), profiles now and then; microsecond-distinct times.
        var transactions = Enumerable.Range(0, 1500).Select(i => (Card: cards[random.Next(cards.Length)],
            Ts: start.AddMinutes(random.NextDouble() * 3 * 24 * 60).AddTicks(i * 10), Amount: Math.Round(random.NextDouble() * 500, 2))).OrderBy(t => t.Ts).ToList();
        var profiles = Enumerable.Range(0, 60).Select(i => (Card: cards[random.Next(cards.Length)],
            Ts: start.AddMinutes(random.NextDouble() * 3 * 24 * 60).AddTicks(i * 10 + 5), Limit: (double)random.Next(100, 10_000))).OrderBy(t => t.Ts).ToList();
        var samples = Enumerable.Range(0, 300).Select(i => (Card: random.Next(20) == 0 ? "never-seen" : cards[random.Next(cards.Length)],
            Ts: i % 5 == 0 ? transactions[random.Next(transactions.Count)].Ts : start.AddMinutes(random.NextDouble() * 3.2 * 24 * 60))).OrderBy(s => s.Ts).ToList();
        string[] refs = ["card_stats", "card_profile:credit_limit", "card_profile:country"];

        var online = new List<object?[]>();
        int t = 0, p = 0;
        foreach (var sample in samples)
        {
            var dueTransactions = new List<(string Card, DateTimeOffset Ts, double Amount)>();
            while (t < transactions.Count && transactions[t].Ts <= sample.Ts)
            {
                dueTransactions.Add(transactions[t++]);
            }
            var dueProfiles = new List<(string Card, DateTimeOffset Ts, double Limit)>();
            while (p < profiles.Count && profiles[p].Ts <= sample.Ts)
            {
                dueProfiles.Add(profiles[p++]);
            }
            if (dueTransactions.Count > 0)
            {
                await features.PushAsync(new PushRequest("card_transactions", Transactions(dueTransactions)));
            }
            if (dueProfiles.Count > 0)
            {
                await features.PushAsync(new PushRequest("card_profiles", Profiles(dueProfiles)));
            }
            var read = await server.GetAsync(new OnlineFeaturesRequest(FeatureStoreTests.Columns(("card_id", [sample.Card])), refs),
                FeatureValues.Micros(sample.Ts), CancellationToken.None);
            online.Add([.. read.Results.Skip(1).Select(r => r.Values[0])]);
        }
        await features.PushAsync(new PushRequest("card_transactions", Transactions(transactions), PushTargets.Offline));
        await features.PushAsync(new PushRequest("card_profiles", Profiles(profiles), PushTargets.Offline));

        var offline = await features.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest(
            FeatureStoreTests.Columns(("card_id", [.. samples.Select(s => (object?)s.Card)]), ("event_timestamp", [.. samples.Select(s => (object?)FeatureValues.FormatTimestamp(FeatureValues.Micros(s.Ts)))])),
            Features: refs));

        var names = offline.Columns.Skip(2).ToList();
        Assert.Equal(16, names.Count);
        var compared = 0;
        var nonTrivial = 0;
        for (var s = 0; s < samples.Count; s++)
        {
            for (var f = 0; f < names.Count; f++)
            {
                var expected = offline.Data![names[f]][s];
                Assert.True(Equals(expected, online[s][f]),
                    $"sample {s} ({samples[s].Card} at {samples[s].Ts:O}) feature {names[f]}: offline {expected ?? "null"}, online {online[s][f] ?? "null"}");
                compared++;
                nonTrivial += expected is double d && d != 0 || expected is long l && l != 0 || expected is string ? 1 : 0;
            }
        }
        Assert.Equal(300 * 16, compared);
        Assert.True(nonTrivial > 2000, $"only {nonTrivial} non-trivial values: the sample does not exercise the windows");
    }

    private static FeatureColumns Transactions(IReadOnlyList<(string Card, DateTimeOffset Ts, double Amount)> rows) => FeatureStoreTests.Columns(
        ("card_id", [.. rows.Select(r => (object?)r.Card)]),
        ("event_timestamp", [.. rows.Select(r => (object?)FeatureValues.FormatTimestamp(FeatureValues.Micros(r.Ts)))]),
        ("amount", [.. rows.Select(r => (object?)r.Amount)]),
        ("merchant_category", [.. rows.Select(_ => (object?)"5411")]));

    private static FeatureColumns Profiles(IReadOnlyList<(string Card, DateTimeOffset Ts, double Limit)> rows) => FeatureStoreTests.Columns(
        ("card_id", [.. rows.Select(r => (object?)r.Card)]),
        ("event_timestamp", [.. rows.Select(r => (object?)FeatureValues.FormatTimestamp(FeatureValues.Micros(r.Ts)))]),
        ("credit_limit", [.. rows.Select(r => (object?)r.Limit)]),
        ("account_age_days", [.. rows.Select(_ => (object?)365L)]),
        ("country", [.. rows.Select(r => (object?)(r.Limit > 5000 ? "FR" : "DE"))]),
        ("is_business", [.. rows.Select(_ => (object?)false)]));
}

public sealed class EmbeddedParityTests : ParityTests
{
    protected override Task<InProcessModules> StartAsync() => InProcessModules.StartAsync();
}

public sealed class RedisParityTests(RedisFixture redis) : ParityTests, IClassFixture<RedisFixture>
{
    protected override Task<InProcessModules> StartAsync()
    {
        Skip.If(redis.Server is null, RedisServer.InstallHint);
        return InProcessModules.StartAsync(configuration: new Dictionary<string, string?>
        {
            ["Strata:Features:OnlineStore"] = "redis",
            ["Strata:Features:Redis"] = redis.Server!.Configuration,
            ["Strata:Features:RedisKeyPrefix"] = $"parity{Guid.NewGuid():N}:",
        });
    }
}
