using Strata.Features.Online;
using Strata.Features.Store;
using Strata.Features.Views;
using Strata.Testing;
using Strata.Samples;

namespace Strata.Features.Tests;

/// <summary>What every online store must do; each backend runs this suite against the real thing.</summary>
public abstract class OnlineStoreConformance
{
    protected static readonly FeatureRepository Repository = new(SampleFeatureRepository.Entities, SampleFeatureRepository.Sources,
        SampleFeatureRepository.Views, SampleFeatureRepository.Definitions.OnDemandViews, SampleFeatureRepository.Services);

    private static readonly long T0 = FeatureValues.Micros(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private static readonly long Minute = 60_000_000;

    /// <summary>A new, empty store.</summary>
    protected abstract Task<IOnlineStore> CreateAsync();

    /// <summary>The same store's data opened again, as after a process restart.</summary>
    protected abstract Task<IOnlineStore> ReopenAsync(IOnlineStore store);

    private static FeatureRow Profile(string key, long eventTs, long createdTs, double limit, long age = 10, string? country = "DE", bool business = false) =>
        new(key, eventTs, createdTs, [limit, age, country, business]);

    private static FeatureRow Transaction(string key, long eventTs, double amount, long createdTs = 0) =>
        new(key, eventTs, createdTs == 0 ? eventTs : createdTs, [amount, "grocery"]);

    private static async Task<FeatureRow?[]> LatestAsync(IOnlineStore store, params string?[] keys) =>
        (await store.ReadAsync([new OnlineRead(SampleFeatureRepository.CardProfile, keys)], T0)).Single().Latest!;

    private static async Task<IReadOnlyList<FeatureRow>[]> EventsAsync(IOnlineStore store, long asOf, params string?[] keys) =>
        (await store.ReadAsync([new OnlineRead(SampleFeatureRepository.CardStats, keys)], asOf)).Single().Events!;

    [SkippableFact]
    public async Task Latest_EveryValueType_RoundTrips()
    {
        var store = await CreateAsync();
        await store.WriteLatestAsync(SampleFeatureRepository.CardProfile,
            [Profile("a", T0, T0, 1500.25, long.MaxValue, "Zürich \"quoted\"", true), new("b", T0, T0, [null, null, null, null])]);

        var rows = await LatestAsync(store, "a", "b", "missing", null);

        Assert.Equal([1500.25, long.MaxValue, "Zürich \"quoted\"", true], rows[0]!.Values);
        Assert.Equal((T0, T0), (rows[0]!.EventTs, rows[0]!.CreatedTs));
        Assert.Equal([null, null, null, null], rows[1]!.Values);
        Assert.Null(rows[2]);
        Assert.Null(rows[3]);
    }

    [SkippableFact]
    public async Task Latest_OlderWrite_NeverReplacesNewer()
    {
        var store = await CreateAsync();
        await store.WriteLatestAsync(SampleFeatureRepository.CardProfile, [Profile("a", T0, T0 + 5, 100)]);

        await store.WriteLatestAsync(SampleFeatureRepository.CardProfile, [Profile("a", T0 - Minute, T0 + 9, 1)]); // older event
        await store.WriteLatestAsync(SampleFeatureRepository.CardProfile, [Profile("a", T0, T0 + 4, 2)]); // same event, created earlier
        Assert.Equal(100.0, (await LatestAsync(store, "a"))[0]!.Values[0]);

        await store.WriteLatestAsync(SampleFeatureRepository.CardProfile, [Profile("a", T0, T0 + 6, 3)]); // same event, created later
        Assert.Equal(3.0, (await LatestAsync(store, "a"))[0]!.Values[0]);

        // Within one write the newest row per key wins too, whatever the order.
        await store.WriteLatestAsync(SampleFeatureRepository.CardProfile, [Profile("b", T0 + Minute, T0, 7), Profile("b", T0 - Minute, T0, 8)]);
        Assert.Equal(7.0, (await LatestAsync(store, "b"))[0]!.Values[0]);
    }

    [SkippableFact]
    public async Task Events_Read_ReturnsOnlyTheLongestWindowBeforeAsOf()
    {
        var store = await CreateAsync();
        var hour = 60 * Minute;
        await store.AppendEventsAsync(SampleFeatureRepository.CardStats,
            [Transaction("c", T0 - 25 * hour, 1), Transaction("c", T0 - 24 * hour, 2), Transaction("c", T0 - hour, 3), Transaction("c", T0, 4), Transaction("c", T0 + Minute, 5)]);

        var events = (await EventsAsync(store, T0, "c", "other", null))[0];

        // (T0 - 24 h, T0]: the event exactly 24 h before is outside, the one at T0 inside, the later one not yet.
        Assert.Equal([3.0, 4.0], events.OrderBy(e => e.EventTs).Select(e => (double)e.Values[0]!));
        Assert.Empty((await EventsAsync(store, T0, "other"))[0]);
    }

    [SkippableFact]
    public async Task Events_SameEventAppendedTwice_IsStoredOnce()
    {
        var store = await CreateAsync();
        FeatureRow[] batch = [Transaction("c", T0, 10, T0 + 1), Transaction("c", T0, 10, T0 + 2)];
        await store.AppendEventsAsync(SampleFeatureRepository.CardStats, batch);
        await store.AppendEventsAsync(SampleFeatureRepository.CardStats, batch);

        var events = (await EventsAsync(store, T0, "c"))[0];

        Assert.Equal(2, events.Count); // two distinct events with equal values; each once
    }

    [SkippableFact]
    public async Task Events_OlderThanTheLongestWindowBeforeTheNewest_AreDropped()
    {
        var store = await CreateAsync();
        var hour = 60 * Minute;
        await store.AppendEventsAsync(SampleFeatureRepository.CardStats, [Transaction("c", T0, 1)]);
        await store.AppendEventsAsync(SampleFeatureRepository.CardStats, [Transaction("c", T0 + 30 * hour, 2)]);

        Assert.Empty((await EventsAsync(store, T0, "c"))[0]);
        Assert.Single((await EventsAsync(store, T0 + 30 * hour, "c"))[0]);
    }

    [SkippableFact]
    public async Task Read_ManyViewsAndEntities_AnswersEachInOrder()
    {
        var store = await CreateAsync();
        await store.WriteLatestAsync(SampleFeatureRepository.CardProfile, [Profile("a", T0, T0, 1), Profile("b", T0, T0, 2)]);
        await store.WriteLatestAsync(SampleFeatureRepository.CardEmbedding, [new("b", T0, T0, [.. Enumerable.Range(0, 32).Select(i => (object?)(double)i)])]);
        await store.AppendEventsAsync(SampleFeatureRepository.CardStats, [Transaction("a", T0, 5)]);
        string?[] keys = ["b", "a", "z"];

        var results = await store.ReadAsync(
            [new OnlineRead(SampleFeatureRepository.CardProfile, keys), new OnlineRead(SampleFeatureRepository.CardEmbedding, keys), new OnlineRead(SampleFeatureRepository.CardStats, keys)], T0);

        Assert.Equal([2.0, 1.0, null], results[0].Latest!.Select(r => r?.Values[0]));
        Assert.Equal([31.0, null, null], results[1].Latest!.Select(r => r?.Values[31]));
        Assert.Equal([0, 1, 0], results[2].Events!.Select(e => e.Count));
    }

    [SkippableFact]
    public async Task Reopen_KeepsEveryAcknowledgedWrite()
    {
        var store = await CreateAsync();
        await store.WriteLatestAsync(SampleFeatureRepository.CardProfile, [Profile("a", T0, T0, 42)]);
        await store.AppendEventsAsync(SampleFeatureRepository.CardStats, [Transaction("a", T0, 5), Transaction("a", T0 - Minute, 6)]);

        var reopened = await ReopenAsync(store);

        Assert.Equal(42.0, (await LatestAsync(reopened, "a"))[0]!.Values[0]);
        Assert.Equal([6.0, 5.0], (await EventsAsync(reopened, T0, "a"))[0].OrderBy(e => e.EventTs).Select(e => e.Values[0]));
    }
}

public sealed class EmbeddedOnlineStoreTests : OnlineStoreConformance, IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly List<EmbeddedOnlineStore> _stores = [];

    private string DbPath => Path.Combine(_folder.Path, "online.db");

    protected override Task<IOnlineStore> CreateAsync() => Task.FromResult<IOnlineStore>(Open());

    protected override Task<IOnlineStore> ReopenAsync(IOnlineStore store)
    {
        ((EmbeddedOnlineStore)store).Dispose();
        return Task.FromResult<IOnlineStore>(Open());
    }

    private EmbeddedOnlineStore Open()
    {
        var store = new EmbeddedOnlineStore(DbPath, Repository);
        _stores.Add(store);
        return store;
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }
}

/// <summary>One redis-server for the Redis test classes of this assembly.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer? Server { get; private set; }

    public async Task InitializeAsync() => Server = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

public sealed class RedisOnlineStoreTests(RedisFixture redis) : OnlineStoreConformance, IClassFixture<RedisFixture>, IDisposable
{
    private readonly string _prefix = $"t{Guid.NewGuid():N}:";
    private readonly List<RedisOnlineStore> _stores = [];

    protected override Task<IOnlineStore> CreateAsync()
    {
        Skip.If(redis.Server is null, RedisServer.InstallHint);
        return Task.FromResult<IOnlineStore>(Open());
    }

    protected override Task<IOnlineStore> ReopenAsync(IOnlineStore store)
    {
        ((RedisOnlineStore)store).Dispose();
        return Task.FromResult<IOnlineStore>(Open());
    }

    private RedisOnlineStore Open()
    {
        var store = new RedisOnlineStore(redis.Server!.Configuration, _prefix, Repository);
        _stores.Add(store);
        return store;
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }
}
