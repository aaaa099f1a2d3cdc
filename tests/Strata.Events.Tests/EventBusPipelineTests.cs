using Microsoft.Extensions.Logging.Abstractions;
using Strata.Events.Inbox;
using Strata.Events.Transport;
using Strata.Testing;

namespace Strata.Events.Tests;

/// <summary>How the bus sends a large batch: in overlapping parts only to a transport that keeps their order, one part
/// in flight at a time, and a failed part fails the call after the part sent with it has finished.</summary>
public sealed class EventBusPipelineTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private EventBus Bus(IEventTransport transport) =>
        new(transport, new CloudEventCodec(TimeProvider.System, "/test"), new SqliteInbox(Path.Combine(_folder.Path, $"{Guid.NewGuid():N}.db"), TimeProvider.System, TimeSpan.FromDays(1)),
            NullLogger<EventBus>.Instance);

    private static KeyValuePair<string, object>[] Events(int count) => [.. Enumerable.Range(0, count).Select(i => new KeyValuePair<string, object>($"k{i % 3}", new { n = i }))];

    [Fact]
    public async Task OrderKeepingTransport_GetsPartsInOrder_OneInFlight()
    {
        var transport = new RecordingTransport(keepsOrder: true);
        await using var bus = Bus(transport);

        await bus.PublishBatchAsync("t", Events(550));

        Assert.Equal([100, 100, 100, 100, 100, 50], transport.Parts.Select(p => p.Count));
        Assert.Equal(550, transport.Parts.SelectMany(p => p).Select(m => m.Id).Distinct().Count());
        Assert.True(transport.MostInFlight <= 2, $"{transport.MostInFlight} parts were in flight at once");
    }

    [Fact]
    public async Task OtherTransport_GetsTheBatchWhole()
    {
        var transport = new RecordingTransport(keepsOrder: false);
        await using var bus = Bus(transport);

        await bus.PublishBatchAsync("t", Events(550));

        Assert.Equal([550], transport.Parts.Select(p => p.Count));
    }

    [Fact]
    public async Task FailedPart_FailsTheCall_NoPartIsSentAfterIt_AndThePartInFlightIsAwaited()
    {
        var transport = new RecordingTransport(keepsOrder: true) { FailPart = 3 };
        await using var bus = Bus(transport);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await bus.PublishBatchAsync("t", Events(1000)));

        Assert.Equal("part 3 refused", error.Message);
        // Part 4 was sent while part 3 was in flight; nothing after it.
        Assert.Equal(4, transport.Parts.Count);
        Assert.Equal(0, transport.InFlight);
    }

    private sealed class RecordingTransport(bool keepsOrder) : IEventTransport
    {
        private int _inFlight;

        public List<IReadOnlyList<OutgoingMessage>> Parts { get; } = [];

        public int MostInFlight { get; private set; }

        public int InFlight => Volatile.Read(ref _inFlight);

        public int? FailPart { get; init; }

        public string Name => "recording";

        public bool KeepsOrderOfOverlappingPublishes => keepsOrder;

        public async ValueTask PublishAsync(string topic, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
        {
            Parts.Add(messages);
            var part = Parts.Count;
            MostInFlight = Math.Max(MostInFlight, Interlocked.Increment(ref _inFlight));
            try
            {
                await Task.Delay(part == FailPart ? 10 : 30, cancellationToken);
                if (part == FailPart)
                {
                    throw new InvalidOperationException($"part {part} refused");
                }
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public ValueTask<IEventConsumer> OpenConsumerAsync(string topic, string group, ConsumerSettings settings, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public ValueTask<IReadOnlyList<ConsumerGroupState>> DescribeAsync(string topic, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
