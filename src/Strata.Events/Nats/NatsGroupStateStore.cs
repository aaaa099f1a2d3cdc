using NATS.Client.KeyValueStore;
using Strata.Events.Transport.Partitioning;

namespace Strata.Events.Nats;

/// <summary>A group's shared state as an entry of a JetStream key-value bucket, written by revision (compare-and-set).</summary>
internal sealed class NatsGroupStateStore(INatsKVStore store) : IGroupStateStore
{
    public async ValueTask<(string? Value, ulong Version)> ReadAsync(string key, CancellationToken cancellationToken)
    {
        var entry = await store.TryGetEntryAsync<string>(key, cancellationToken: cancellationToken);
        if (!entry.Success)
        {
            return entry.Error is NatsKVKeyNotFoundException or NatsKVKeyDeletedException ? (null, 0) : throw entry.Error;
        }
        return (entry.Value.Value, entry.Value.Revision);
    }

    public async ValueTask<bool> TryWriteAsync(string key, string value, ulong version, CancellationToken cancellationToken)
    {
        var result = version == 0
            ? await store.TryCreateAsync(key, value, cancellationToken: cancellationToken)
            : await store.TryUpdateAsync(key, value, version, cancellationToken: cancellationToken);
        if (result.Success)
        {
            return true;
        }
        return result.Error is NatsKVCreateException or NatsKVWrongLastRevisionException ? false : throw result.Error;
    }
}
