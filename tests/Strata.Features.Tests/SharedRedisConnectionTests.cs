using System.Text;
using StackExchange.Redis;
using Strata.Contracts.Features;
using Strata.Events.Transport;
using Strata.Features.Online;
using Strata.ServiceDefaults;
using Strata.Testing;

namespace Strata.Features.Tests;

/// <summary>With both the online store and the event bus on Redis, the process holds one multiplexer for them: the
/// store's writes and the transport's publishes go over the connection <see cref="RedisConnections"/> hands out, and
/// no other connection opens for that traffic.</summary>
public sealed class SharedRedisConnectionTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [SkippableFact]
    public async Task OnlineStoreAndEventTransport_ShareTheProcesssMultiplexer()
    {
        Skip.If(redis.Server is null, RedisServer.InstallHint);
        // A client name of its own, so this process's connections can be told apart in CLIENT LIST.
        var name = $"sh{Guid.NewGuid():N}"[..24];
        var configuration = $"{redis.Server!.Configuration},name={name}";
        await using var modules = await InProcessModules.StartAsync(configuration: new Dictionary<string, string?>
        {
            ["Strata:Features:OnlineStore"] = "redis",
            ["Strata:Features:Redis"] = configuration,
            ["Strata:Features:RedisKeyPrefix"] = $"{name}:",
            ["Strata:Events:Backend"] = "redis",
            ["Strata:Events:Redis"] = configuration,
            ["Strata:Events:Prefix"] = name,
        });
        Assert.IsType<RedisOnlineStore>(modules.Get<IOnlineStore>());
        var shared = await modules.Get<RedisConnections>().Get(configuration);

        var before = shared.OperationCount;
        await modules.Get<IEventTransport>().PublishAsync("shared-connection", [new OutgoingMessage("m-1", "k", Encoding.UTF8.GetBytes("{}"))]);
        var afterPublish = shared.OperationCount;
        await modules.Get<IFeaturesClient>().PushAsync(new PushRequest("card_profiles", FeatureStoreTests.Columns(
            ("card_id", ["c-1"]), ("event_timestamp", ["2026-05-01T00:00:00Z"]), ("credit_limit", [1000.0]), ("account_age_days", [365L]), ("country", ["FR"]), ("is_business", [false]))));
        var afterPush = shared.OperationCount;

        Assert.True(afterPublish > before, $"the publish did not use the shared multiplexer ({before} -> {afterPublish} operations)");
        Assert.True(afterPush > afterPublish, $"the online write did not use the shared multiplexer ({afterPublish} -> {afterPush} operations)");

        // Under this name: the shared multiplexer's interactive connection (and its subscription connection); the
        // consumers' blocking readers (stream ingestion's) are named {name}.reader. Never a second multiplexer.
        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration + ",allowAdmin=true");
        var clients = await admin.GetServer(admin.GetEndPoints()[0]).ClientListAsync();
        var mine = clients.Where(c => c.Name == name).ToList();
        Assert.True(mine.Count(c => !c.Flags.HasFlag(ClientFlags.PubSubSubscriber)) == 1,
            $"{mine.Count} connections named {name}: {string.Join("; ", mine.Select(c => c.Raw))}");
        Assert.Contains(clients, c => c.Name == name + ".reader");
    }
}
