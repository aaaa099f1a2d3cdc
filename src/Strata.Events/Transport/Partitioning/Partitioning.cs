namespace Strata.Events.Transport.Partitioning;

/// <summary>How a broker without partitions of its own (JetStream, Redis Streams) is split so that order per key holds
/// across the competing members of a group, as Kafka's partitions do: each topic is <see cref="Partitions"/> streams
/// (a message goes to the one its key hashes to), and each partition is read by one member of a group at a time,
/// under a lease in the group's shared state. A member that stops heartbeating for <see cref="MemberTimeout"/> (its
/// process died) or holds a batch past the ack wait without fetching again (stuck) loses its partitions to the others.
/// Every process of an installation must use the same partition count.</summary>
public sealed record PartitionOptions
{
    public const int MaxPartitions = 256;

    /// <summary>Partitions per topic (1 to 256): the most members of one group that can work at once.</summary>
    public int Partitions { get; init; } = 4;

    /// <summary>How long a member may stay silent before the others take its partitions over (Kafka's session timeout).</summary>
    public TimeSpan MemberTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public static PartitionOptions Default { get; } = new();

    internal void Validate()
    {
        if (Partitions is < 1 or > MaxPartitions)
        {
            throw new ArgumentOutOfRangeException(nameof(Partitions), Partitions, $"partitions must be 1 to {MaxPartitions}");
        }
        if (MemberTimeout < TimeSpan.FromMilliseconds(500))
        {
            throw new ArgumentOutOfRangeException(nameof(MemberTimeout), MemberTimeout, "the member timeout must be at least 500 ms");
        }
    }

    /// <summary>The partition of a message: FNV-1a of its ordering key (of its id when it has no key), so every process
    /// maps a key to the same partition.</summary>
    public int PartitionOf(string key, string id)
    {
        var text = string.IsNullOrEmpty(key) ? id : key;
        var hash = 2166136261u;
        foreach (var c in text)
        {
            // UTF-16 code units, low byte then high byte: stable across processes and platforms.
            hash = (hash ^ (byte)c) * 16777619u;
            hash = (hash ^ (byte)(c >> 8)) * 16777619u;
        }
        return (int)(hash % (uint)Partitions);
    }
}
