using Microsoft.Extensions.Time.Testing;
using Strata.Events.Transport.Partitioning;

namespace Strata.Events.Tests;

/// <summary>The group protocol on its own (an in-memory state document, a fake clock, ticks run by the test), so the
/// order of the members' ticks is chosen rather than left to the machine's timing.</summary>
public sealed class PartitionAssignmentTests
{
    private static readonly PartitionOptions Options = new() { Partitions = 2, MemberTimeout = TimeSpan.FromSeconds(3) };
    private static readonly TimeSpan AckWait = TimeSpan.FromSeconds(1);

    /// <summary>A member stuck with unacknowledged messages leaves and stays out until it fetches again, even when it
    /// ticks again before the others: it used to rejoin at once (its in-flight count reset as it left), take its share
    /// back before the other member had claimed what it held there, and keep those messages pending for good.</summary>
    [Fact]
    public async Task StuckMember_StaysOutUntilItFetchesAgain_SoTheOthersTakeOverWhatItHeld()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = new MemoryStore();
        var reader1 = new Reader();
        var reader2 = new Reader();
        await using var c1 = new PartitionAssignment(store, "g", "c1", Options, AckWait, reader1, time);
        await using var c2 = new PartitionAssignment(store, "g", "c2", Options, AckWait, reader2, time);

        await c1.TickAsync(CancellationToken.None);
        Assert.Equal([0, 1], c1.Readable);
        c1.Polled();
        c1.HandedOut(0, 1);
        c1.HandedOut(1, 1);
        await c2.TickAsync(CancellationToken.None);
        Assert.Empty(c2.Readable); // both leases are c1's

        // c1 stops fetching with both messages unacknowledged: past the ack wait it is stuck and leaves.
        time.Advance(TimeSpan.FromSeconds(1.5));
        await c1.TickAsync(CancellationToken.None);
        Assert.Empty(c1.Readable);
        // Its next tick comes before c2's: it must not come back (it has not fetched since).
        time.Advance(TimeSpan.FromSeconds(0.5));
        await c1.TickAsync(CancellationToken.None);
        Assert.Empty(c1.Readable);

        await c2.TickAsync(CancellationToken.None);
        Assert.Equal([0, 1], c2.Readable);
        Assert.Equal([0, 1], reader2.Acquired.Order());

        // Once c1 fetches again it rejoins, and gets its share when c2 gives it up.
        time.Advance(TimeSpan.FromMilliseconds(10));
        c1.Polled();
        await c1.TickAsync(CancellationToken.None);
        await c2.TickAsync(CancellationToken.None);
        await c1.TickAsync(CancellationToken.None);
        Assert.Single(c1.Readable);
        Assert.Single(c2.Readable);
        Assert.NotEqual(c1.Readable, c2.Readable);
    }

    private sealed class MemoryStore : IGroupStateStore
    {
        private readonly Lock _gate = new();
        private string? _value;
        private ulong _version;

        public ValueTask<(string? Value, ulong Version)> ReadAsync(string key, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                return ValueTask.FromResult((_value, _version));
            }
        }

        public ValueTask<bool> TryWriteAsync(string key, string value, ulong version, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                if (version != _version)
                {
                    return ValueTask.FromResult(false);
                }
                _value = value;
                _version++;
                return ValueTask.FromResult(true);
            }
        }
    }

    private sealed class Reader : IPartitionReader
    {
        public List<int> Acquired { get; } = [];

        void IPartitionReader.Acquired(int partition) => Acquired.Add(partition);

        public Task QuiesceAsync(int partition) => Task.CompletedTask;
    }
}
