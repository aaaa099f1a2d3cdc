using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Features.Offline;
using Strata.Features.Store;
using Strata.Features.Views;
using Strata.Testing;
using Strata.Samples;

namespace Strata.Features.Tests;

public sealed class FeatureStoreTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    internal static FeatureColumns Columns(params (string Name, object?[] Values)[] columns)
    {
        var df = new FeatureColumns();
        foreach (var (name, values) in columns)
        {
            df[name] = [.. values];
        }
        return df;
    }

    private static string Ts(DateTimeOffset time) => time.ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    private static FeatureColumns Profiles(string[] cards, DateTimeOffset[] times, double[] limits) => Columns(
        ("card_id", cards), ("event_timestamp", [.. times.Select(t => (object?)Ts(t))]), ("credit_limit", [.. limits.Cast<object?>()]),
        ("account_age_days", [.. cards.Select(_ => (object?)100L)]), ("country", [.. cards.Select(_ => (object?)"DE")]), ("is_business", [.. cards.Select(_ => (object?)false)]));

    private static FeatureColumns Transactions(string[] cards, DateTimeOffset[] times, double[] amounts) => Columns(
        ("card_id", cards), ("event_timestamp", [.. times.Select(t => (object?)Ts(t))]), ("amount", [.. amounts.Cast<object?>()]),
        ("merchant_category", [.. cards.Select(_ => (object?)"5411")]));

    private static async Task<OnlineFeaturesResponse> OnlineAsync(IFeaturesClient features, string[] cards, params string[] refs) =>
        await features.GetOnlineFeaturesAsync(new OnlineFeaturesRequest(Columns(("card_id", cards)), refs));

    public static TheoryData<string, string> BadPushes => new()
    {
        { """{"push_source_name":"nope","df":{"card_id":["a"]}}""", "push_source_name" },
        { """{"df":{"card_id":["a"]}}""", "push_source_name" },
        { """{"push_source_name":"card_profiles"}""", "df" },
        { """{"push_source_name":"card_profiles","df":{"card_id":["a","b"],"event_timestamp":["2026-01-01T00:00:00Z","2026-01-01T00:00:00Z"],"credit_limit":[1,2],"account_age_days":[1,2],"country":["DE","FR"],"is_business":[true,false]},"to":"nowhere"}""", "to" },
        { """{"push_source_name":"card_profiles","df":{"card_id":["a","b"],"event_timestamp":["2026-01-01T00:00:00Z","2026-01-01T00:00:00Z"],"credit_limit":[1,2],"account_age_days":[1,2],"country":["DE","FR"],"is_business":[true,false],"extra":[1,2]}}""", "df.extra" },
        { """{"push_source_name":"card_profiles","df":{"card_id":["a","b"],"event_timestamp":["2026-01-01T00:00:00Z","2026-01-01T00:00:00Z"],"credit_limit":[1,2],"account_age_days":[1,2],"country":["DE","FR"]}}""", "df.is_business" },
        { """{"push_source_name":"card_profiles","df":{"card_id":["a","b"],"event_timestamp":["2026-01-01T00:00:00Z","2026-01-01T00:00:00Z"],"credit_limit":[1,2,3],"account_age_days":[1,2],"country":["DE","FR"],"is_business":[true,false]}}""", "df.credit_limit" },
        { """{"push_source_name":"card_profiles","df":{"card_id":["a",7],"event_timestamp":["2026-01-01T00:00:00Z","2026-01-01T00:00:00Z"],"credit_limit":[1,2],"account_age_days":[1,2],"country":["DE","FR"],"is_business":[true,false]}}""", "df.card_id" },
        { """{"push_source_name":"card_profiles","df":{"card_id":["a",null],"event_timestamp":["2026-01-01T00:00:00Z","2026-01-01T00:00:00Z"],"credit_limit":[1,2],"account_age_days":[1,2],"country":["DE","FR"],"is_business":[true,false]}}""", "df.card_id" },
        { """{"push_source_name":"card_profiles","df":{"card_id":["a","b"],"event_timestamp":["2026-01-01T00:00:00Z","yesterday"],"credit_limit":[1,2],"account_age_days":[1,2],"country":["DE","FR"],"is_business":[true,false]}}""", "df.event_timestamp" },
        { """{"push_source_name":"card_profiles","df":{"card_id":["a","b"],"event_timestamp":["2026-01-01T00:00:00Z","2026-01-01T00:00:00Z"],"credit_limit":[1,"2"],"account_age_days":[1,2],"country":["DE","FR"],"is_business":[true,false]}}""", "df.credit_limit" },
        { """{"push_source_name":"card_profiles","df":{"card_id":["a","b"],"event_timestamp":["2026-01-01T00:00:00Z","2026-01-01T00:00:00Z"],"credit_limit":[1,2],"account_age_days":[1,2.5],"country":["DE","FR"],"is_business":[true,false]}}""", "df.account_age_days" },
        { """{"push_source_name":"card_profiles","df":{"card_id":[],"event_timestamp":[],"credit_limit":[],"account_age_days":[],"country":[],"is_business":[]}}""", "df" },
    };

    [Theory]
    [MemberData(nameof(BadPushes))]
    public async Task Push_BadInput_IsRejectedAndWritesNothing(string json, string field)
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var request = System.Text.Json.JsonSerializer.Deserialize<PushRequest>(json, Contracts.StrataJson.Options)!;
        request = request with { To = request.To ?? PushTargets.OnlineAndOffline };

        var error = await Assert.ThrowsAsync<InputValidationException>(() => features.PushAsync(request));

        Assert.Equal(field, error.Field);
        Assert.False(modules.Get<OfflineStore>().HasData(SampleFeatureRepository.CardProfile));
        var online = await OnlineAsync(features, ["a", "b"], "card_profile:credit_limit");
        Assert.Equal([FeatureStatus.NotFound, FeatureStatus.NotFound], online.Results[1].Statuses);
    }

    /// <summary>A push larger than one part (<see cref="PushService.PartRows"/>) is written a part at a time (issue 24:
    /// a million-row push held every row several times over), and is still all or nothing: a bad value in its last
    /// part writes nothing anywhere; without it, every row of every part is online and offline, the last row of a card
    /// winning.</summary>
    [Theory]
    [InlineData(PushTargets.OnlineAndOffline)]
    [InlineData(PushTargets.Online)]
    public async Task Push_OfSeveralParts_IsAllOrNothing_AndWritesEveryRow(string to)
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var rows = PushService.PartRows * 2 + 17;
        var cards = Enumerable.Range(0, rows).Select(i => $"p{i % (rows - 5)}").ToArray(); // the last 5 rows repeat the first 5 cards
        var times = Enumerable.Range(0, rows).Select(i => Now.AddHours(-2).AddMilliseconds(i)).ToArray();
        var limits = Enumerable.Range(0, rows).Select(i => (double)i).ToArray();

        var bad = Profiles(cards, times, limits);
        bad["credit_limit"][rows - 1] = "lots";
        var error = await Assert.ThrowsAsync<InputValidationException>(() => features.PushAsync(new PushRequest("card_profiles", bad, to)));
        Assert.Equal(("df.credit_limit", $"row {rows - 1}: expected float64, got the string \"lots\""), (error.Field, error.Reason));
        Assert.False(modules.Get<OfflineStore>().HasData(SampleFeatureRepository.CardProfile));
        Assert.Equal([FeatureStatus.NotFound, FeatureStatus.NotFound], (await OnlineAsync(features, ["p0", "p100000"], "card_profile:credit_limit")).Results[1].Statuses);

        var result = await features.PushAsync(new PushRequest("card_profiles", Profiles(cards, times, limits), to));
        Assert.Equal(rows, result.Rows);
        var online = await OnlineAsync(features, ["p0", "p4", "p5", "p70000", $"p{rows - 6}"], "card_profile:credit_limit");
        Assert.Equal([(double)(rows - 5), (double)(rows - 1), 5.0, 70000.0, (double)(rows - 6)], online.Results[1].Values);
        if (to == PushTargets.OnlineAndOffline)
        {
            var historical = await features.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest(
                Columns(("card_id", ["p3", "p70000", $"p{rows - 6}"]), ("event_timestamp", [Ts(Now), Ts(Now), Ts(Now)])), Features: ["card_profile:credit_limit"]));
            Assert.Equal([(double)(rows - 2), 70000.0, (double)(rows - 6)], historical.Data!["credit_limit"]);
        }
    }

    [Fact]
    public async Task GetOnlineFeatures_FeastShape_JoinKeysFirstThenFeaturesAcrossRows()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        await features.PushAsync(new PushRequest("card_profiles", Profiles(["a", "b"], [Now.AddDays(-1), Now.AddDays(-2)], [1000, 2000])));

        var response = await features.GetOnlineFeaturesAsync(new OnlineFeaturesRequest(Columns(("card_id", ["b", "zz", "a"])),
            ["card_profile:credit_limit", "card_profile:country"], FullFeatureNames: true));

        Assert.Equal(["card_id", "card_profile__credit_limit", "card_profile__country"], response.Metadata.FeatureNames);
        Assert.Equal(["b", "zz", "a"], response.Results[0].Values);
        Assert.Equal([2000.0, null, 1000.0], response.Results[1].Values);
        Assert.Equal([FeatureStatus.Present, FeatureStatus.NotFound, FeatureStatus.Present], response.Results[1].Statuses);
        Assert.Equal(FeatureValues.FormatTimestamp(FeatureValues.Micros(Now.AddDays(-2))), response.Results[1].EventTimestamps[0]);
        Assert.Equal(["DE", null, "DE"], response.Results[2].Values);
    }

    /// <summary>Feast's push payload carries a <c>created</c> column (its docs' example): it is each row's created time,
    /// which breaks a tie between rows of the same event time (issue 24: the column was refused as unknown).</summary>
    [Fact]
    public async Task Push_CreatedColumn_BreaksTiesOfTheSameEventTime()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var at = Now.AddHours(-1);
        FeatureColumns Row(double limit, DateTimeOffset? created)
        {
            var df = Profiles(["c"], [at], [limit]);
            if (created is { } c)
            {
                df["created"] = [Ts(c)];
            }
            return df;
        }

        await features.PushAsync(new PushRequest("card_profiles", Row(1, Now.AddMinutes(-1))));
        await features.PushAsync(new PushRequest("card_profiles", Row(2, Now.AddMinutes(-2)))); // pushed later, created earlier
        Assert.Equal([1.0], (await OnlineAsync(features, ["c"], "card_profile:credit_limit")).Results[1].Values);
        await features.PushAsync(new PushRequest("card_profiles", Row(3, created: null))); // created now
        Assert.Equal([3.0], (await OnlineAsync(features, ["c"], "card_profile:credit_limit")).Results[1].Values);

        var error = await Assert.ThrowsAsync<InputValidationException>(() => features.PushAsync(new PushRequest("card_profiles", Row(4, Now.AddDays(3)))));
        Assert.Equal("df.created", error.Field);
        var garbled = Profiles(["c"], [at], [5]);
        garbled["created"] = ["yesterday"];
        Assert.Equal("df.created", (await Assert.ThrowsAsync<InputValidationException>(() => features.PushAsync(new PushRequest("card_profiles", garbled)))).Field);
    }

    [Fact]
    public async Task GetOnlineFeatures_ValueOlderThanTtl_IsOutsideMaxAge()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        // card_profile has a 30-day ttl.
        await features.PushAsync(new PushRequest("card_profiles", Profiles(["fresh", "stale"], [Now.AddDays(-29), Now.AddDays(-31)], [1, 2])));

        var response = await OnlineAsync(features, ["fresh", "stale"], "card_profile:credit_limit");

        Assert.Equal([1.0, null], response.Results[1].Values);
        Assert.Equal([FeatureStatus.Present, FeatureStatus.OutsideMaxAge], response.Results[1].Statuses);
    }

    [Fact]
    public async Task GetOnlineFeatures_Aggregates_SlideWithTheClock()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        await features.PushAsync(new PushRequest("card_transactions",
            Transactions(["c", "c", "c"], [Now.AddMinutes(-5), Now.AddMinutes(-30), Now.AddHours(-5)], [10, 20, 40])));

        var response = await OnlineAsync(features, ["c", "none"], "card_stats:amount_count_10m", "card_stats:amount_sum_1h", "card_stats:amount_max_24h",
            "card_stats:amount_mean_10m");

        Assert.Equal([1L, 0L], response.Results[1].Values);
        Assert.Equal([30.0, 0.0], response.Results[2].Values);
        Assert.Equal([40.0, null], response.Results[3].Values);
        Assert.Equal([10.0, null], response.Results[4].Values);
        Assert.Equal([FeatureStatus.Present, FeatureStatus.NullValue], response.Results[4].Statuses);
        var server = modules.Get<OnlineFeatureServer>();
        var later = await server.GetAsync(new OnlineFeaturesRequest(Columns(("card_id", ["c"])), ["card_stats:amount_count_24h"]),
            FeatureValues.Micros(Now.AddHours(20)), CancellationToken.None);
        Assert.Equal([2L], later.Results[1].Values); // the event 5 h before now has left the 24 h window
    }

    [Fact]
    public async Task GetOnlineFeatures_OnDemand_FromRequestDataOrFromTheSourceView()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        await features.PushAsync(new PushRequest("user_profiles", Columns(("user_id", [1L]), ("event_timestamp", [Ts(Now)]), ("age", [40.0]), ("income", [80000.0]))));

        var fromRequest = await features.GetOnlineFeaturesAsync(new OnlineFeaturesRequest(Columns(("age", [30.0]), ("income", [60000.0])), ["seed_features:income_per_age"]));
        var fromStore = await features.GetOnlineFeaturesAsync(new OnlineFeaturesRequest(Columns(("user_id", [1L, 2L])), FeatureService: "seed_model"));

        Assert.Equal([2000.0], fromRequest.Results[0].Values);
        Assert.Equal(["user_id", "age", "income", "age_squared", "income_per_age"], fromStore.Metadata.FeatureNames);
        Assert.Equal([1600.0, null], fromStore.Results[3].Values);
        Assert.Equal([FeatureStatus.Present, FeatureStatus.NotFound], fromStore.Results[4].Statuses);
        var bad = await Assert.ThrowsAsync<InputValidationException>(() => features.GetOnlineFeaturesAsync(
            new OnlineFeaturesRequest(Columns(("age", [0.0]), ("income", [1.0])), ["seed_features:income_per_age"])));
        Assert.Equal("entities.age", bad.Field);
    }

    public static TheoryData<string, string> BadOnlineRequests => new()
    {
        { """{"entities":{"card_id":["a"]},"features":["nope:x"]}""", "features" },
        { """{"entities":{"card_id":["a"]},"features":["card_profile:nope"]}""", "features" },
        { """{"entities":{"card_id":["a"]},"features":[]}""", "features" },
        { """{"entities":{"card_id":["a"]},"features":["card_profile:country"],"feature_service":"fraud_detection"}""", "features" },
        { """{"entities":{"card_id":[1]},"features":["card_profile:country"]}""", "entities.card_id" },
        { """{"entities":{"card_id":[null]},"features":["card_profile:country"]}""", "entities.card_id" },
        { """{"entities":{"user_id":[1]},"features":["card_profile:country"]}""", "entities.user_id" },
        { """{"entities":{"card_id":["a"],"user_id":[1,2]},"features":["card_profile:country","user_profile:age"]}""", "entities.user_id" },
        { """{"features":["card_profile:country"]}""", "entities" },
        { """{"entities":{"card_id":[]},"features":["card_profile:country"]}""", "entities" },
        { """{"entities":{"card_id":["a"]},"features":["card_profile:country",""]}""", "features" },
    };

    [Theory]
    [MemberData(nameof(BadOnlineRequests))]
    public async Task GetOnlineFeatures_BadInput_NamesTheProblem(string json, string field)
    {
        await using var modules = await InProcessModules.StartAsync();
        var request = System.Text.Json.JsonSerializer.Deserialize<OnlineFeaturesRequest>(json, Contracts.StrataJson.Options)!;

        var error = await Assert.ThrowsAsync<InputValidationException>(() => modules.Get<IFeaturesClient>().GetOnlineFeaturesAsync(request));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public async Task GetOnlineFeatures_UnknownFeatureService_IsNotFound()
    {
        await using var modules = await InProcessModules.StartAsync();
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => modules.Get<IFeaturesClient>().GetOnlineFeaturesAsync(
            new OnlineFeaturesRequest(Columns(("card_id", ["a"])), FeatureService: "nope")));
    }

    [Fact]
    public async Task Historical_PointInTime_MatchesABruteForceReference()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var random = new Random(7);
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var cards = Enumerable.Range(0, 12).Select(i => $"card{i}").ToArray();
        var pushed = new List<(string Card, DateTimeOffset Ts, double Limit, int Push, int Row)>();
        for (var push = 0; push < 6; push++)
        {
            var rows = Enumerable.Range(0, 60).Select(_ => (Card: cards[random.Next(cards.Length)],
                // Coarse times make equal event times across pushes (ties broken by created time) common.
                Ts: t0.AddDays(random.Next(0, 90)), Limit: (double)random.Next(1, 100_000))).ToList();
            await features.PushAsync(new PushRequest("card_profiles", Profiles([.. rows.Select(r => r.Card)], [.. rows.Select(r => r.Ts)], [.. rows.Select(r => r.Limit)]), PushTargets.Offline));
            pushed.AddRange(rows.Select((r, i) => (r.Card, r.Ts, r.Limit, push, i)));
            await Task.Delay(2); // distinct created times per push
        }
        var entityCards = Enumerable.Range(0, 400).Select(_ => random.Next(10) == 0 ? "unknown" : cards[random.Next(cards.Length)]).ToArray();
        var entityTimes = entityCards.Select(_ => t0.AddDays(random.Next(-5, 130)).AddHours(random.Next(0, 2) * 12)).ToArray();

        var result = await features.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest(
            Columns(("card_id", entityCards), ("event_timestamp", [.. entityTimes.Select(t => (object?)Ts(t))]), ("label", [.. entityCards.Select((_, i) => (object?)(long)(i % 2))])),
            Features: ["card_profile:credit_limit"]));

        Assert.Equal(["card_id", "event_timestamp", "label", "credit_limit"], result.Columns);
        Assert.Equal(400, result.Rows);
        var ttl = SampleFeatureRepository.CardProfile.Ttl!.Value;
        var matched = 0;
        for (var r = 0; r < entityCards.Length; r++)
        {
            // The greatest event time <= the entity time and within ttl; among equals, the latest push, then the latest row.
            var expected = pushed.Where(p => p.Card == entityCards[r] && p.Ts <= entityTimes[r])
                .OrderByDescending(p => p.Ts).ThenByDescending(p => p.Push).ThenByDescending(p => p.Row).FirstOrDefault();
            double? value = expected.Card is null || expected.Ts < entityTimes[r] - ttl ? null : expected.Limit;
            matched += value is null ? 0 : 1;
            Assert.Equal(entityCards[r], result.Data!["card_id"][r]);
            Assert.Equal(value, (double?)result.Data["credit_limit"][r]);
        }
        Assert.InRange(matched, 100, 390); // the sample exercises both matches and misses
    }

    [Fact]
    public async Task Historical_Aggregates_CountTheEventsOfEachWindow()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var t0 = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        await features.PushAsync(new PushRequest("card_transactions",
            Transactions(["c", "c", "c", "d"], [t0, t0.AddMinutes(5), t0.AddMinutes(50), t0.AddMinutes(1)], [1, 2, 4, 100]), PushTargets.Offline));

        var result = await features.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest(
            Columns(("card_id", ["c", "c", "c", "d"]), ("event_timestamp", [Ts(t0.AddMinutes(5)), Ts(t0.AddMinutes(14)), Ts(t0.AddMinutes(61)), Ts(t0)])),
            Features: ["card_stats:amount_count_10m", "card_stats:amount_sum_1h", "card_stats:amount_min_1h"]));

        Assert.Equal([2L, 1L, 0L, 0L], result.Data!["amount_count_10m"]);
        Assert.Equal([3.0, 3.0, 6.0, 0.0], result.Data["amount_sum_1h"]);
        Assert.Equal([1.0, 1.0, 2.0, null], result.Data["amount_min_1h"]);
    }

    [Fact]
    public async Task Historical_EntityDataset_WritesTheResultAsADatasetVersion()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var data = modules.Get<IDataClient>();
        await features.PushAsync(new PushRequest("user_profiles", Columns(("user_id", [1L, 2L]), ("event_timestamp", ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"]),
            ("age", [30.0, 50.0]), ("income", [60000.0, 50000.0])), PushTargets.Offline));
        var entities = await data.IngestCsvAsync("labels", new MemoryStream(Encoding.UTF8.GetBytes(
            "user_id,event_timestamp,label\n2,2026-02-01 00:00:00,1\n1,2025-06-01 00:00:00,0\n1,2026-03-01 00:00:00,1\n")), CleaningRules.None);

        var result = await features.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest(EntityDatasetId: entities.Id,
            FeatureService: "seed_model", OutputDatasetName: "training-set"));

        Assert.Null(result.Data);
        Assert.NotNull(result.Dataset);
        Assert.Equal(3, result.Dataset.Rows);
        Assert.Equal(["user_id", "event_timestamp", "label", "age", "income", "age_squared", "income_per_age"], result.Dataset.Schema.Select(c => c.Name));
        var frame = await data.ReadColumnsAsync(result.Dataset.Id, ["income_per_age", "label"]);
        Assert.Equal(1000.0, frame.Columns["income_per_age"][0]);
        Assert.True(double.IsNaN(frame.Columns["income_per_age"][1])); // before the profile existed
        Assert.Equal(2000.0, frame.Columns["income_per_age"][2]);
    }

    [Fact]
    public async Task Historical_BadInput_IsRejected()
    {
        await using var modules = await InProcessModules.StartAsync(configuration: new Dictionary<string, string?> { ["Strata:Features:MaxInlineRows"] = "2" });
        var features = modules.Get<IFeaturesClient>();
        async Task<string> Field(HistoricalFeaturesRequest request) => (await Assert.ThrowsAsync<InputValidationException>(() => features.GetHistoricalFeaturesAsync(request))).Field;
        string[] refs = ["card_profile:country"];

        Assert.Equal("entity_rows", await Field(new HistoricalFeaturesRequest(Features: refs)));
        Assert.Equal("entity_rows.event_timestamp", await Field(new HistoricalFeaturesRequest(Columns(("card_id", ["a"])), Features: refs)));
        Assert.Equal("entity_rows.card_id", await Field(new HistoricalFeaturesRequest(Columns(("event_timestamp", ["2026-01-01T00:00:00Z"])), Features: refs)));
        Assert.Equal("entity_rows.event_timestamp", await Field(new HistoricalFeaturesRequest(Columns(("card_id", ["a"]), ("event_timestamp", ["soon"])), Features: refs)));
        Assert.Equal("entity_rows.event_timestamp", await Field(new HistoricalFeaturesRequest(Columns(("card_id", ["a", "b"]), ("event_timestamp", ["2026-01-01T00:00:00Z"])), Features: refs)));
        Assert.Equal("entity_rows", await Field(new HistoricalFeaturesRequest(Columns(("card_id", ["a", "b", "c"]), ("event_timestamp", [1.0, 2.0, 3.0])), Features: refs)));
        Assert.Equal("features", await Field(new HistoricalFeaturesRequest(Columns(("card_id", ["a"]), ("event_timestamp", [1.0])), Features: ["card_profile:zzz"])));
        Assert.Equal("features", await Field(new HistoricalFeaturesRequest(Columns(("card_id", ["a"]), ("event_timestamp", [1.0]), ("country", ["x"])), Features: refs)));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => features.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest(EntityDatasetId: "nope", Features: refs)));
    }

    [Fact]
    public async Task Materialize_CopiesTheLatestRowPerEntityInTheWindow_NeverOverFresherValues()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var t = Now.AddDays(-3);
        await features.PushAsync(new PushRequest("card_profiles",
            Profiles(["a", "a", "b", "c"], [t, t.AddHours(1), t.AddHours(2), t.AddDays(2)], [1, 2, 3, 4]), PushTargets.Offline));
        await features.PushAsync(new PushRequest("card_profiles", Profiles(["b"], [Now.AddMinutes(-1)], [30]), PushTargets.Online));

        var result = await features.MaterializeAsync(new MaterializeRequest(Ts(t), Ts(t.AddDays(1)), ["card_profile"]));

        Assert.Equal(2, result.Views.Single().Rows);
        var online = await OnlineAsync(features, ["a", "b", "c"], "card_profile:credit_limit");
        Assert.Equal([2.0, 30.0, null], online.Results[1].Values); // b's fresher online value stays; c is outside the window
        Assert.Equal("feature_views", (await Assert.ThrowsAsync<InputValidationException>(() =>
            features.MaterializeAsync(new MaterializeRequest(Ts(t), Ts(t), ["seed_features"])))).Field);
        Assert.Equal("start_ts", (await Assert.ThrowsAsync<InputValidationException>(() =>
            features.MaterializeAsync(new MaterializeRequest(Ts(t.AddDays(1)), Ts(t), ["card_profile"])))).Field);
        Assert.Equal("end_ts", (await Assert.ThrowsAsync<InputValidationException>(() =>
            features.MaterializeAsync(new MaterializeRequest(Ts(t), "tomorrow", ["card_profile"])))).Field);
    }

    [Fact]
    public async Task MaterializeIncremental_ContinuesWhereTheLastRunEnded()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var t = Now.AddDays(-3);
        await features.PushAsync(new PushRequest("user_profiles", Columns(("user_id", [1L, 2L]), ("event_timestamp", [Ts(t), Ts(t.AddDays(2))]),
            ("age", [30.0, 40.0]), ("income", [1.0, 2.0])), PushTargets.Offline));

        var first = await features.MaterializeIncrementalAsync(new MaterializeIncrementalRequest(Ts(t.AddDays(1)), ["user_profile"]));
        var second = await features.MaterializeIncrementalAsync(new MaterializeIncrementalRequest(Ts(Now), ["user_profile"]));

        Assert.Equal(1, first.Views.Single().Rows);
        Assert.Equal(1, second.Views.Single().Rows);
        Assert.Equal(first.Views.Single().EndTs, second.Views.Single().StartTs);
        var online = await features.GetOnlineFeaturesAsync(new OnlineFeaturesRequest(Columns(("user_id", [1L, 2L])), ["user_profile:age"]));
        Assert.Equal([30.0, 40.0], online.Results[1].Values);
    }

    [Fact]
    public async Task Materialize_ViewAlreadyBeingMaterialised_IsAConflict()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var materializer = modules.Get<Materializer>();
        var started = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        materializer.OnViewStarting = async _ =>
        {
            started.TrySetResult();
            await release.Task;
        };
        var first = features.MaterializeIncrementalAsync(new MaterializeIncrementalRequest(Ts(Now), ["card_profile"]));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        materializer.OnViewStarting = null;

        await Assert.ThrowsAsync<ResourceConflictException>(() => features.MaterializeAsync(new MaterializeRequest(Ts(Now.AddDays(-1)), Ts(Now), ["card_profile", "user_profile"])));
        var other = await features.MaterializeAsync(new MaterializeRequest(Ts(Now.AddDays(-1)), Ts(Now), ["user_profile"]));
        release.SetResult();
        await first;
        Assert.Single(other.Views);
        await features.MaterializeAsync(new MaterializeRequest(Ts(Now.AddDays(-1)), Ts(Now), ["card_profile"])); // free again
    }

    [Fact]
    public async Task Push_PublishesFeaturesComputed()
    {
        await using var modules = await InProcessModules.StartAsync();
        var received = new TaskCompletionSource<ReceivedEvent>();
        await using var subscription = await modules.Get<IEventSubscriber>().SubscribeAsync(EventTopics.FeaturesComputed, "test", (e, _) =>
        {
            received.TrySetResult(e);
            return Task.CompletedTask;
        });

        await modules.Get<IFeaturesClient>().PushAsync(new PushRequest("card_transactions", Transactions(["c"], [Now], [5])));

        var e = await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("card_transactions", e.Subject);
    }

    [Fact]
    public async Task StreamedEvents_ReachTheOnlineAndOfflineStoresBeforeTheyAreAcknowledged_BadOnesAreDeadLettered()
    {
        await using var modules = await InProcessModules.StartAsync();
        var events = modules.Get<IEventPublisher>();
        var features = modules.Get<IFeaturesClient>();
        var t = Now.AddMinutes(-3);

        await events.PublishAsync("card.transactions", "s1", new { card_id = "s1", event_timestamp = Ts(t), amount = 10.0, merchant_category = "5411" });
        await events.PublishAsync("card.transactions", "s1", new { card_id = "s1", event_timestamp = "not a time", amount = 99.0, merchant_category = "5411" });
        await events.PublishAsync("card.transactions", "s1", new[]
        {
            new { card_id = "s1", event_timestamp = Ts(t.AddSeconds(1)), amount = 5.0, merchant_category = "5812" },
            new { card_id = "s2", event_timestamp = Ts(t.AddSeconds(2)), amount = 7.0, merchant_category = "5812" },
        });

        var online = await Eventually.ValueAsync(() => OnlineAsync(features, ["s1", "s2"], "card_stats:amount_sum_10m"),
            r => Equals(r.Results[1].Values[0], 15.0) && Equals(r.Results[1].Values[1], 7.0), TimeSpan.FromSeconds(10), "streamed rows online");
        Assert.Equal([15.0, 7.0], online.Results[1].Values); // the bad event was set aside, the rest kept flowing
        var offline = await features.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest(
            Columns(("card_id", ["s1", "s2"]), ("event_timestamp", [Ts(Now), Ts(Now)])), Features: ["card_stats:amount_count_10m"]));
        Assert.Equal([2L, 1L], offline.Data!["amount_count_10m"]);
        var letters = await Eventually.ValueAsync(() => Task.FromResult(modules.Get<Strata.Events.EventsAdmin>().DeadLetters(StreamIngestion.ConsumerGroup, null, null, 10)),
            l => l.Count == 1, TimeSpan.FromSeconds(20), "the bad event in the dead letters");
        Assert.Equal(99.0, letters[0].Event.GetProperty("data").GetProperty("amount").GetDouble());
        Assert.Contains("event_timestamp", letters[0].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Definitions_AreListedWithSchemas()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();

        var views = await features.ListViewsAsync();
        var services = await features.ListFeatureServicesAsync();
        var sources = await features.ListPushSourcesAsync();
        var entities = await features.ListEntitiesAsync();

        var stats = views.Single(v => v.Name == "card_stats");
        Assert.Equal(FeatureViewKinds.Aggregate, stats.Kind);
        Assert.Equal("card_id", stats.JoinKeys!.Single().Name);
        Assert.Contains(stats.Aggregations!, a => a.Feature == "amount_sum_1h" && a.Function == "sum" && a.WindowSeconds == 3600);
        Assert.Equal(30 * 86400, views.Single(v => v.Name == "card_profile").TtlSeconds);
        Assert.Equal(FeatureViewKinds.OnDemand, views.Single(v => v.Name == "seed_features").Kind);
        Assert.Equal(50, services.Single(s => s.Name == "fraud_detection").FeatureRefs.Count);
        Assert.Equal(["card_id", "event_timestamp", "amount", "merchant_category"], sources.Single(s => s.Name == "card_transactions").Schema.Select(f => f.Name));
        Assert.Equal(["card", "user"], entities.Select(e => e.Name));
        Assert.All(views, v => Assert.Matches("^[0-9a-f]{12}$", v.Version));
        Assert.Equal(views.Count, views.Select(v => v.Version).Distinct().Count());
        Assert.Equal(stats.Version, (await features.GetViewAsync("card_stats"))!.Version);
    }
}
