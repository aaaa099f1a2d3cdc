namespace Strata.Events.Transport.Partitioning;

/// <summary>A small document per consumer group on the broker itself, written by compare-and-set (a JetStream key-value
/// bucket, a Redis hash): the group's members and partition leases (<see cref="PartitionAssignment"/>).</summary>
internal interface IGroupStateStore
{
    /// <summary>The document and its version (0 and null when there is none).</summary>
    ValueTask<(string? Value, ulong Version)> ReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Writes the document if its version is still <paramref name="version"/>; false when another member wrote first.</summary>
    ValueTask<bool> TryWriteAsync(string key, string value, ulong version, CancellationToken cancellationToken);
}

/// <summary>What a backend does when its member gains or gives up a partition.</summary>
internal interface IPartitionReader
{
    /// <summary>The member now holds the partition: start reading it (after taking over what a former holder left unacknowledged).</summary>
    void Acquired(int partition);

    /// <summary>Stop reading the partition and give back what was read but not handed out; when this returns, nothing more
    /// of it reaches the member, so once its handed-out messages are acknowledged the lease can go to another member.</summary>
    Task QuiesceAsync(int partition);
}
