using System.Text;
using Strata.Contracts.Events;
using Strata.Events.Audit;
using Strata.Events.Transport;
using Strata.Testing;

namespace Strata.Events.Tests;

/// <summary>An event's topic is where it was published, whatever its type says (issue 24: an event posted to
/// <c>model.trained</c> with type <c>com.example.x</c> was filed in the audit log under <c>com.example.x</c>).</summary>
public sealed class EventTopicTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ForeignType_OnAPlatformTopic_IsDeliveredAndAuditedUnderThatTopic()
    {
        await using var bus = EmbeddedBus.Create(_folder.Path);
        using var store = new AuditStore(Path.Combine(_folder.Path, "audit.db"));
        var delivered = new TaskCompletionSource<ReceivedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await bus.SubscribeBatchAsync(EventTopics.ModelTrained, AuditRecorder.ConsumerGroup, (events, _) =>
        {
            store.AppendAll(events);
            delivered.TrySetResult(events[0]);
            return Task.CompletedTask;
        }, new SubscriptionOptions { FromStart = true });

        var envelope = """{"specversion":"1.0","id":"e-1","type":"com.example.x","source":"/elsewhere","datacontenttype":"application/json","data":{"a":1}}""";
        await bus.PublishEnvelopesAsync(EventTopics.ModelTrained, [new OutgoingMessage("e-1", "k", Encoding.UTF8.GetBytes(envelope))]);

        var received = await delivered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((EventTopics.ModelTrained, "com.example.x"), (received.Topic, received.Type));
        var audited = Assert.Single(store.Query(new AuditQuery(EventTopics.ModelTrained, null, null, null, null, null, 10, null)).Events);
        Assert.Equal("com.example.x", audited.Type);
        Assert.Empty(store.Query(new AuditQuery("com.example.x", null, null, null, null, null, 10, null)).Events);
    }
}
