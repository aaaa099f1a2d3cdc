using System.Text.Json;
using Strata.Contracts.Events;
using Strata.Events.Audit;
using Strata.Testing;

namespace Strata.Events.Tests;

/// <summary>The audit log writes what one fetch delivered in one transaction: every event once (a redelivered batch or
/// an event repeated inside one changes nothing), dead letters filed beside their event, all queryable afterwards.</summary>
public sealed class AuditStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly CloudEventCodec _codec = new(TimeProvider.System, "/strata/test");

    private ReceivedEvent Event<T>(string topic, string subject, T data) => CloudEventCodec.Decode(_codec.Encode(topic, subject, data));

    [Fact]
    public void AppendAll_WritesTheBatch_EachEventOnce_AndFilesDeadLetters()
    {
        using var store = new AuditStore(Path.Combine(_folder.Path, "audit.db"));
        var first = Event(EventTopics.ModelAliasChanged, "seed@champion", new ModelAliasChangedEvent("seed", "champion", 2, 1));
        var second = Event(EventTopics.ModelAliasChanged, "seed@challenger", new ModelAliasChangedEvent("seed", "challenger", 3, null));
        var failed = new DeadLetterEvent("serving", EventTopics.ModelAliasChanged, first.Id, 5, "boom", DateTimeOffset.UtcNow, JsonSerializer.SerializeToElement(new { x = 1 }));
        var letter = Event(EventTopics.DeadLetter, first.Id, failed);

        store.AppendAll([first, second, first, letter]);
        store.AppendAll([first, second]); // the same fetch redelivered

        var page = store.Query(new AuditQuery(EventTopics.ModelAliasChanged, null, null, null, null, null, 100, null));
        Assert.Equal([first.Id, second.Id], page.Events.Select(e => e.Id));
        Assert.Equal(["seed@champion", "seed@challenger"], page.Events.Select(e => e.Subject));
        var dead = Assert.Single(store.DeadLetters("serving", null, null, 10));
        Assert.Equal(first.Id, dead.EventId);
        Assert.Equal("boom", dead.Error);
        Assert.Single(store.Query(new AuditQuery(EventTopics.DeadLetter, null, null, null, null, null, 100, null)).Events);
    }

    [Fact]
    public void AppendAll_Empty_WritesNothing()
    {
        using var store = new AuditStore(Path.Combine(_folder.Path, "audit.db"));
        store.AppendAll([]);
        Assert.Empty(store.Query(new AuditQuery(null, null, null, null, null, null, 100, null)).Events);
    }

    public void Dispose() => _folder.Dispose();
}
