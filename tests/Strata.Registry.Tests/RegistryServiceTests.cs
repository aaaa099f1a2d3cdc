using Strata.Contracts.Errors;
using Strata.Contracts.Registry;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Events;
using Strata.Events.Outbox;
using Strata.Registry.Artifacts;
using Strata.Registry.Storage;
using Strata.ServiceDefaults.Sql;
using Strata.Testing;

namespace Strata.Registry.Tests;

/// <summary>The registry over each store (SQLite, PostgreSQL): one conformance suite. Each test has its own database.</summary>
public abstract class RegistryServiceTests : IDisposable
{
    protected TempFolder Folder { get; } = new();
    private readonly TempFolder _folder;
    private readonly EventBus _bus;
    private readonly List<SqlRegistryStore> _stores = [];

    protected RegistryServiceTests()
    {
        _folder = Folder;
        _bus = EmbeddedBus.Create(Path.Combine(_folder.Path, "events"), "/strata/registry");
    }

    /// <summary>A store over this test's database (a second call opens the same database, as a restarted process would).</summary>
    protected abstract SqlRegistryStore CreateStore();

    private SqlRegistryStore NewStore()
    {
        var store = CreateStore();
        _stores.Add(store);
        return store;
    }

    private readonly List<OutboxRelay> _relays = [];

    /// <summary>A registry; its outbox relay runs unless <paramref name="relay"/> is false (a process that died after the commit).</summary>
    private async Task<RegistryService> OpenAsync(bool relay = true)
    {
        var store = NewStore();
        await store.InitializeAsync(CancellationToken.None);
        var relayService = new OutboxRelay([store], _bus, NullLogger<OutboxRelay>.Instance);
        if (relay)
        {
            await relayService.StartAsync(CancellationToken.None);
            _relays.Add(relayService);
        }
        return new RegistryService(store, new ArtifactStore(Path.Combine(_folder.Path, "artifacts")), TimeProvider.System,
            new CloudEventCodec(TimeProvider.System, "/strata/registry"), relayService);
    }

    private static NewModelVersion Version(string sha) => new(sha, ModelFormats.MlNet,
        new Dictionary<string, double> { ["auc"] = 0.9 }, new Dictionary<string, string> { ["trees"] = "100" },
        "dataset-1", "seed_features", "1", ["age", "income"]);

    private static async Task<string> UploadAsync(RegistryService registry, string content) =>
        (await registry.PutArtifactAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)))).Sha256;

    [SkippableFact]
    public async Task CreateVersionAsync_Twice_NumbersFromOneAndKeepsLineage()
    {
        var registry = await OpenAsync();
        var sha = await UploadAsync(registry, "model-bytes");

        var v1 = await registry.CreateVersionAsync("fraud", Version(sha));
        var v2 = await registry.CreateVersionAsync("fraud", Version(sha));

        Assert.Equal((1, 2), (v1.Version, v2.Version));
        Assert.Equal("dataset-1", v2.DatasetVersion);
        Assert.Equal(0.9, v2.Metrics["auc"]);
        Assert.Equal(["age", "income"], v2.FeatureNames);
        Assert.Equal(11, v2.ArtifactSize);
    }

    [SkippableFact]
    public async Task CreateVersionAsync_SameRequestIdTwice_OneVersionOneAnnouncement()
    {
        // A training request handled twice (redelivered after a crash before its inbox record) registers once.
        var registry = await OpenAsync(relay: false);
        var sha = await UploadAsync(registry, "model-bytes");

        var first = await registry.CreateVersionAsync("fraud", Version(sha) with { RequestId = "req-1" });
        var again = await registry.CreateVersionAsync("fraud", Version(sha) with { RequestId = "req-1" });
        var other = await registry.CreateVersionAsync("fraud", Version(sha) with { RequestId = "req-2" });
        var reopened = await (await OpenAsync(relay: false)).CreateVersionAsync("fraud", Version(sha) with { RequestId = "req-1" });

        Assert.Equal((1, 1, 2, 1), (first.Version, again.Version, other.Version, reopened.Version));
        Assert.Equal(2, (await registry.ListVersionsAsync("fraud")).Count);
        var store = NewStore();
        Assert.Equal(["fraud/1", "fraud/2"], (await store.PendingOutboxAsync(10, CancellationToken.None)).Select(e => e.Key));
        var field = (await Assert.ThrowsAsync<InputValidationException>(() => registry.CreateVersionAsync("fraud", Version(sha) with { RequestId = new string('x', 129) }))).Field;
        Assert.Equal("request_id", field);
    }

    [SkippableFact]
    public async Task SetAliasAsync_MovesAndSurvivesReopen()
    {
        var registry = await OpenAsync();
        var sha = await UploadAsync(registry, "m");
        await registry.CreateVersionAsync("m", Version(sha));
        await registry.CreateVersionAsync("m", Version(sha));

        await registry.SetAliasAsync("m", "champion", 1);
        var moved = await registry.SetAliasAsync("m", "champion", 2);
        Assert.Equal(["champion"], moved.Aliases);

        var reopened = await OpenAsync();
        Assert.Equal(2, (await reopened.GetVersionByAliasAsync("m", "champion"))!.Version);
        Assert.Empty((await reopened.GetVersionAsync("m", 1))!.Aliases);
        var model = Assert.Single(await reopened.ListModelsAsync());
        Assert.Equal(2, model.LatestVersion);
        Assert.Equal(2, model.Aliases["champion"]);
    }

    [SkippableFact]
    public async Task TrafficPolicy_IsVersioned_Announced_Checked_AndGuardsWhatItNames()
    {
        var registry = await OpenAsync(relay: false);
        var sha = await UploadAsync(registry, "m");
        await registry.CreateVersionAsync("m", Version(sha));
        await registry.CreateVersionAsync("m", Version(sha));
        await registry.SetAliasAsync("m", "champion", 1);
        Assert.Null(await registry.GetTrafficPolicyAsync("m"));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => registry.GetTrafficPolicyAsync("none"));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => registry.SetTrafficPolicyAsync("none", null));

        var canary = new TrafficPolicy
        {
            Split = [new TrafficArm { Target = TrafficTarget.OfAlias("champion"), Weight = 90 }, new TrafficArm { Target = TrafficTarget.OfVersion(2), Weight = 10 }],
            Sticky = new StickyAssignment { Key = "user_id" },
        };
        var first = await registry.SetTrafficPolicyAsync("m", canary);
        Assert.Equal(1, first.Version);
        // A version that does not exist: refused, nothing stored.
        Assert.Equal("target", (await Assert.ThrowsAsync<InputValidationException>(() =>
            registry.SetTrafficPolicyAsync("m", canary with { Shadow = new ShadowTarget { Target = TrafficTarget.OfVersion(3) } }))).Field);
        // What the policy names cannot be deleted from under it.
        await Assert.ThrowsAsync<ResourceConflictException>(() => registry.DeleteAsync("m", 2));
        await Assert.ThrowsAsync<ResourceConflictException>(() => registry.DeleteAliasAsync("m", "champion"));
        var cleared = await registry.SetTrafficPolicyAsync("m", null);

        var reopened = await OpenAsync(relay: false);
        Assert.Equal((2, null), ((await reopened.GetTrafficPolicyAsync("m"))!.Version, (await reopened.GetTrafficPolicyAsync("m"))!.Policy));
        var history = await reopened.GetTrafficHistoryAsync("m");
        Assert.Equal([2, 1], history.Select(h => h.Version));
        Assert.Equal(canary.Split, history[1].Policy!.Split);
        Assert.Equal("user_id", history[1].Policy!.Sticky!.Key);
        Assert.Equal(cleared.CreatedAt, history[0].CreatedAt);
        var announced = (await NewStore().PendingOutboxAsync(100, CancellationToken.None)).Where(e => e.Topic == Strata.Contracts.Events.EventTopics.ModelTrafficChanged);
        Assert.Equal(2, announced.Count());

        // Cleared, the version can go; renaming carries the history; deleting the model takes it.
        await registry.DeleteAsync("m", 2);
        await registry.RenameAsync("m", "n");
        Assert.Equal(2, (await registry.GetTrafficHistoryAsync("n")).Count);
        await registry.DeleteAsync("n", null);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => registry.GetTrafficHistoryAsync("n"));
    }

    [SkippableFact]
    public async Task SetAliasAsync_BadTargets_ThrowAndChangeNothing()
    {
        var registry = await OpenAsync();
        var sha = await UploadAsync(registry, "m");
        await registry.CreateVersionAsync("m", Version(sha));
        await registry.SetAliasAsync("m", "champion", 1);

        await Assert.ThrowsAsync<ResourceNotFoundException>(() => registry.SetAliasAsync("m", "champion", 7));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => registry.SetAliasAsync("other", "champion", 1));
        await Assert.ThrowsAsync<InputValidationException>(() => registry.SetAliasAsync("m", "latest", 1));
        Assert.Equal(1, (await registry.GetVersionByAliasAsync("m", "champion"))!.Version);
    }

    [SkippableFact]
    public async Task CreateVersionAsync_InvalidVersions_ThrowNamingField()
    {
        var registry = await OpenAsync();
        var sha = await UploadAsync(registry, "m");
        Assert.Equal("artifact_sha256", (await Assert.ThrowsAsync<InputValidationException>(() =>
            registry.CreateVersionAsync("m", Version(new string('b', 64))))).Field);
        Assert.Equal("artifact_sha256", (await Assert.ThrowsAsync<InputValidationException>(() =>
            registry.CreateVersionAsync("m", Version("not-a-hash")))).Field);
        Assert.Equal("format", (await Assert.ThrowsAsync<InputValidationException>(() =>
            registry.CreateVersionAsync("m", Version(sha) with { Format = "pickle" }))).Field);
        Assert.Equal("feature_names", (await Assert.ThrowsAsync<InputValidationException>(() =>
            registry.CreateVersionAsync("m", Version(sha) with { FeatureNames = [] }))).Field);
        Assert.Equal("metrics", (await Assert.ThrowsAsync<InputValidationException>(() =>
            registry.CreateVersionAsync("m", Version(sha) with { Metrics = new Dictionary<string, double> { ["auc"] = double.NaN } }))).Field);
        Assert.Equal("feature_view", (await Assert.ThrowsAsync<InputValidationException>(() =>
            registry.CreateVersionAsync("m", Version(sha) with { FeatureView = null }))).Field);
        Assert.Equal("feature_names", (await Assert.ThrowsAsync<InputValidationException>(() =>
            registry.CreateVersionAsync("m", Version(sha) with { Format = ModelFormats.Onnx, FeatureNames = ["a", " "] }))).Field);
        Assert.Empty(await registry.ListModelsAsync());
    }

    [SkippableFact]
    public async Task CreateVersionAsync_Onnx_NeedsNoFeatureViewNorFeatureNames()
    {
        var registry = await OpenAsync();
        var sha = await UploadAsync(registry, "graph");
        var created = await registry.CreateVersionAsync("g", Version(sha) with { Format = ModelFormats.Onnx, FeatureView = null, FeatureViewVersion = null, FeatureNames = [] });
        Assert.Equal((ModelFormats.Onnx, 1), (created.Format, created.Version));
        Assert.Null(created.FeatureView);
    }

    [SkippableFact]
    public async Task CreateVersionAsync_Concurrent_GivesDistinctNumbers()
    {
        var registry = await OpenAsync();
        var sha = await UploadAsync(registry, "m");
        var versions = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => registry.CreateVersionAsync("m", Version(sha)))));
        Assert.Equal(Enumerable.Range(1, 16), versions.Select(v => v.Version).Order());
    }

    [SkippableFact]
    public async Task GetArtifactAsync_CorruptedFile_RefusesToServe()
    {
        var registry = await OpenAsync();
        var sha = await UploadAsync(registry, "original");
        Assert.Equal("original"u8.ToArray(), await registry.GetArtifactAsync(sha));

        var file = Directory.GetFiles(Path.Combine(_folder.Path, "artifacts"), "*", SearchOption.AllDirectories).Single();
        await File.WriteAllTextAsync(file, "tampered");

        var error = await Assert.ThrowsAsync<DependencyUnavailableException>(() => registry.GetArtifactAsync(sha));
        Assert.Contains("corrupted", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => registry.GetArtifactAsync(new string('c', 64)));
    }

    [SkippableFact]
    public async Task Writes_PublishRegisteredAndAliasChangedEvents()
    {
        // One channel per topic: topics are delivered independently, so there is no order across them.
        var registeredEvents = System.Threading.Channels.Channel.CreateUnbounded<Strata.Contracts.Events.ReceivedEvent>();
        var aliasEvents = System.Threading.Channels.Channel.CreateUnbounded<Strata.Contracts.Events.ReceivedEvent>();
        await using var a = await _bus.SubscribeAsync(Strata.Contracts.Events.EventTopics.ModelRegistered, "test", (e, ct) => registeredEvents.Writer.WriteAsync(e, ct).AsTask());
        await using var b = await _bus.SubscribeAsync(Strata.Contracts.Events.EventTopics.ModelAliasChanged, "test", (e, ct) => aliasEvents.Writer.WriteAsync(e, ct).AsTask());
        var registry = await OpenAsync();
        var sha = await UploadAsync(registry, "m");

        await registry.CreateVersionAsync("m", Version(sha));
        await registry.SetAliasAsync("m", "champion", 1);
        await registry.SetAliasAsync("m", "champion", 1);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var registered = await registeredEvents.Reader.ReadAsync(timeout.Token);
        var moved = await aliasEvents.Reader.ReadAsync(timeout.Token);
        Assert.Equal(("strata.model.registered", "m/1"), (registered.Type, registered.Subject));
        Assert.Equal("dataset-1", registered.DataAs<Strata.Contracts.Events.ModelRegisteredEvent>()!.DatasetVersion);
        Assert.Equal(new Strata.Contracts.Events.ModelAliasChangedEvent("m", "champion", 1, null), moved.DataAs<Strata.Contracts.Events.ModelAliasChangedEvent>());
        await Task.Delay(200);
        Assert.False(aliasEvents.Reader.TryRead(out _), "re-pointing an alias at the version it already has is not a change");
        Assert.False(registeredEvents.Reader.TryRead(out _));
    }

    [SkippableFact]
    public async Task DeleteAliasAsync_RemovesIt_AnnouncesIt_AndASecondDeleteIsNotFound()
    {
        var aliasEvents = System.Threading.Channels.Channel.CreateUnbounded<Strata.Contracts.Events.ReceivedEvent>();
        await using var sub = await _bus.SubscribeAsync(Strata.Contracts.Events.EventTopics.ModelAliasChanged, "test", (e, ct) => aliasEvents.Writer.WriteAsync(e, ct).AsTask());
        var registry = await OpenAsync();
        var sha = await UploadAsync(registry, "m");
        await registry.CreateVersionAsync("m", Version(sha));
        await registry.SetAliasAsync("m", "challenger", 1);
        await registry.SetAliasAsync("m", "champion", 1);

        await registry.DeleteAliasAsync("m", "challenger");

        Assert.Null(await registry.GetVersionByAliasAsync("m", "challenger"));
        Assert.Equal(["champion"], (await registry.GetVersionAsync("m", 1))!.Aliases);
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 1 }, Assert.Single(await registry.ListModelsAsync()).Aliases);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => registry.DeleteAliasAsync("m", "challenger"));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => registry.DeleteAliasAsync("other", "champion"));
        Assert.Equal("alias", (await Assert.ThrowsAsync<InputValidationException>(() => registry.DeleteAliasAsync("m", "latest"))).Field);
        Assert.Equal(1, (await registry.GetVersionByAliasAsync("m", "champion"))!.Version);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var seen = new List<Strata.Contracts.Events.ModelAliasChangedEvent>();
        while (seen.Count < 3)
        {
            seen.Add((await aliasEvents.Reader.ReadAsync(timeout.Token)).DataAs<Strata.Contracts.Events.ModelAliasChangedEvent>()!);
        }
        Assert.Contains(new Strata.Contracts.Events.ModelAliasChangedEvent("m", "challenger", null, 1), seen);
    }

    [SkippableFact]
    public async Task Outbox_ProcessDiesAfterCommit_EventIsPublishedOnceWhenItComesBack()
    {
        var registered = new Collector();
        await using var sub = await _bus.SubscribeAsync(Strata.Contracts.Events.EventTopics.ModelRegistered, "test", registered.Handle);
        var crashed = await OpenAsync(relay: false);
        var sha = await UploadAsync(crashed, "m");
        await crashed.CreateVersionAsync("m", Version(sha));
        await Task.Delay(300);
        Assert.Empty(registered.Events);

        // Restart: the relay finds the event the dead process committed.
        var store = NewStore();
        var relay = new OutboxRelay([store], _bus, NullLogger<OutboxRelay>.Instance);
        Assert.False(await relay.RelayAsync(store, CancellationToken.None));
        Assert.Equal("m/1", (await registered.WaitForAsync(1)).Single().Subject);
        Assert.Empty(await store.PendingOutboxAsync(10, CancellationToken.None));
    }

    [Fact]
    public async Task Relay_WaitsForTheHostToStart_BeforeReadingAnyOutbox()
    {
        // The modules create their tables while the host starts; a relay reading before then found no outbox table.
        var store = new CountingStore();
        using var lifetime = new Lifetime();
        using var relay = new OutboxRelay([store], _bus, NullLogger<OutboxRelay>.Instance, lifetime);
        await relay.StartAsync(CancellationToken.None);
        await Task.Delay(300);
        Assert.Equal(0, store.Reads);
        lifetime.Start();
        await Strata.Testing.Eventually.ValueAsync(() => Task.FromResult(store.Reads), n => n > 0, TimeSpan.FromSeconds(5), "the relay reading once started");
        await relay.StopAsync(CancellationToken.None);
    }

    private sealed class CountingStore : Strata.Contracts.Events.IOutboxStore
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public Task<IReadOnlyList<Strata.Contracts.Events.EncodedEvent>> PendingOutboxAsync(int max, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            return Task.FromResult<IReadOnlyList<Strata.Contracts.Events.EncodedEvent>>([]);
        }

        public Task RemoveOutboxAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class Lifetime : Microsoft.Extensions.Hosting.IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _started = new();

        public CancellationToken ApplicationStarted => _started.Token;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void Start() => _started.Cancel();

        public void StopApplication()
        {
        }

        public void Dispose() => _started.Dispose();
    }

    [SkippableFact]
    public async Task Outbox_DiesAfterPublishBeforeRemove_RepublishesWithoutADuplicateEffect()
    {
        var registered = new Collector();
        await using var sub = await _bus.SubscribeAsync(Strata.Contracts.Events.EventTopics.ModelRegistered, "test", registered.Handle);
        var registry = await OpenAsync(relay: false);
        var sha = await UploadAsync(registry, "m");
        await registry.CreateVersionAsync("m", Version(sha));
        var store = NewStore();
        var pending = await store.PendingOutboxAsync(10, CancellationToken.None);

        // Published, then the process died before removing the row: the next relay publishes it again (same id).
        await _bus.PublishEnvelopesAsync(pending[0].Topic, [new Strata.Events.Transport.OutgoingMessage(pending[0].Id, pending[0].Key, pending[0].Envelope)]);
        await new OutboxRelay([store], _bus, NullLogger<OutboxRelay>.Instance).RelayAsync(store, CancellationToken.None);

        await registered.WaitForAsync(1);
        await Task.Delay(500);
        Assert.Single(registered.Events);
    }

    public void Dispose()
    {
        foreach (var relay in _relays)
        {
            relay.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        _bus.DisposeAsync().AsTask().GetAwaiter().GetResult();
        foreach (var store in _stores)
        {
            store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        _folder.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteRegistryServiceTests : RegistryServiceTests
{
    protected override SqlRegistryStore CreateStore() => SqlRegistryStore.Sqlite(Path.Combine(Folder.Path, "registry.db"));
}

public sealed class PostgresRegistryServiceTests(PostgresFixture postgres) : RegistryServiceTests, IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private string? _database;

    public async Task InitializeAsync() => _database = postgres.Server is null ? null : await postgres.Server.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    protected override SqlRegistryStore CreateStore()
    {
        Skip.If(_database is null, PostgresServer.InstallHint);
        return new SqlRegistryStore(SqlDialect.Postgres(_database!));
    }
}

public sealed class ArtifactStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void ArtifactStore_AtStart_RemovesUploadsACrashAbandoned_NotOnesBeingWritten()
    {
        var root = Path.Combine(_folder.Path, "crashed");
        var folder = Directory.CreateDirectory(Path.Combine(root, "sha256")).FullName;
        var abandoned = Path.Combine(folder, ".incoming-0123");
        var live = Path.Combine(folder, ".incoming-4567");
        File.WriteAllBytes(abandoned, [1, 2, 3]);
        File.WriteAllBytes(live, [4, 5, 6]);
        File.SetLastWriteTimeUtc(abandoned, DateTime.UtcNow - ArtifactStore.AbandonedAfter - TimeSpan.FromMinutes(1));

        _ = new ArtifactStore(root);

        Assert.False(File.Exists(abandoned));
        Assert.True(File.Exists(live));
    }
}
