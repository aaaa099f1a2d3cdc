using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Contracts.Events;

namespace Strata.Events.Tests;

public sealed class InProcessEventBusTests : IAsyncDisposable
{
    private readonly InProcessEventBus _bus = new(new CloudEventCodec(TimeProvider.System, "/strata/test"), NullLogger<InProcessEventBus>.Instance);

    private static async Task<List<ReceivedEvent>> TakeAsync(Channel<ReceivedEvent> channel, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var list = new List<ReceivedEvent>();
        while (list.Count < count)
        {
            list.Add(await channel.Reader.ReadAsync(timeout.Token));
        }
        return list;
    }

    [Fact]
    public void Encode_Event_IsCloudEvents10StructuredJson()
    {
        var codec = new CloudEventCodec(TimeProvider.System, "/strata/registry");
        using var json = JsonDocument.Parse(codec.Encode(EventTopics.ModelAliasChanged, "seed@champion", new ModelAliasChangedEvent("seed", "champion", 2, 1)));
        var root = json.RootElement;
        Assert.Equal("1.0", root.GetProperty("specversion").GetString());
        Assert.Equal("strata.model.alias_changed", root.GetProperty("type").GetString());
        Assert.Equal("/strata/registry", root.GetProperty("source").GetString());
        Assert.Equal("seed@champion", root.GetProperty("subject").GetString());
        Assert.Equal("application/json", root.GetProperty("datacontenttype").GetString());
        Assert.True(Guid.TryParse(root.GetProperty("id").GetString(), out _));
        Assert.True(DateTimeOffset.TryParse(root.GetProperty("time").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.Equal(2, root.GetProperty("data").GetProperty("version").GetInt32());
        Assert.Equal(1, root.GetProperty("data").GetProperty("previous_version").GetInt32());
    }

    [Fact]
    public async Task Publish_TwoGroups_EachGetsEveryEventInOrder()
    {
        var a = Channel.CreateUnbounded<ReceivedEvent>();
        var b = Channel.CreateUnbounded<ReceivedEvent>();
        using var subA = _bus.Subscribe("t", "a", (e, ct) => a.Writer.WriteAsync(e, ct).AsTask());
        using var subB = _bus.Subscribe("t", "b", (e, ct) => b.Writer.WriteAsync(e, ct).AsTask());

        for (var i = 0; i < 50; i++)
        {
            await _bus.PublishAsync("t", "s", new { n = i });
        }
        await _bus.PublishAsync("other", "s", new { n = -1 });

        foreach (var channel in new[] { a, b })
        {
            var received = await TakeAsync(channel, 50);
            Assert.Equal(Enumerable.Range(0, 50), received.Select(e => e.Data.GetProperty("n").GetInt32()));
            Assert.All(received, e => Assert.Equal("t", e.Topic));
            Assert.Equal(50, received.Select(e => e.Id).Distinct().Count());
        }
        await Task.Delay(100);
        Assert.False(a.Reader.TryRead(out _));
    }

    [Fact]
    public async Task Handler_FailsTwice_IsRetriedThenSucceeds_AndAPoisonEventDoesNotStopTheGroup()
    {
        var attempts = new Dictionary<int, int>();
        var done = Channel.CreateUnbounded<int>();
        using var sub = _bus.Subscribe("t", "g", async (e, ct) =>
        {
            var n = e.Data.GetProperty("n").GetInt32();
            attempts[n] = attempts.GetValueOrDefault(n) + 1;
            if (n == 0 && attempts[n] < 3)
            {
                throw new InvalidOperationException("transient");
            }
            if (n == 1)
            {
                throw new InvalidOperationException("poison");
            }
            await done.Writer.WriteAsync(n, ct);
        });

        for (var i = 0; i < 3; i++)
        {
            await _bus.PublishAsync("t", "s", new { n = i });
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Assert.Equal(0, await done.Reader.ReadAsync(timeout.Token));
        Assert.Equal(2, await done.Reader.ReadAsync(timeout.Token));
        Assert.Equal(3, attempts[0]);
        Assert.Equal(InProcessEventBus.MaxAttempts, attempts[1]);
    }

    [Fact]
    public void Subscribe_SameGroupTwice_IsRefused()
    {
        using var first = _bus.Subscribe("t", "g", (_, _) => Task.CompletedTask);
        Assert.Throws<InvalidOperationException>(() => _bus.Subscribe("t", "g", (_, _) => Task.CompletedTask));
    }

    public ValueTask DisposeAsync() => _bus.DisposeAsync();
}
