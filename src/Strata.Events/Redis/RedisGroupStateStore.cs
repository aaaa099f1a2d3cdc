using StackExchange.Redis;
using Strata.Events.Transport.Partitioning;

namespace Strata.Events.Redis;

/// <summary>A group's shared state as a Redis hash (<c>v</c> version, <c>doc</c> document), written by a compare-and-set script.</summary>
internal sealed class RedisGroupStateStore(IDatabase database) : IGroupStateStore
{
    private const string WriteScript = """
        local v = redis.call('HGET', KEYS[1], 'v')
        if (v or '0') ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'v', tostring(tonumber(ARGV[1]) + 1), 'doc', ARGV[2])
        return 1
        """;

    public async ValueTask<(string? Value, ulong Version)> ReadAsync(string key, CancellationToken cancellationToken)
    {
        var values = await database.HashGetAsync(key, ["v", "doc"]).WaitAsync(cancellationToken);
        return values[0].IsNull ? (null, 0) : ((string?)values[1], ulong.Parse((string)values[0]!, System.Globalization.CultureInfo.InvariantCulture));
    }

    public async ValueTask<bool> TryWriteAsync(string key, string value, ulong version, CancellationToken cancellationToken) =>
        (long)await database.ScriptEvaluateAsync(WriteScript, [key], [version.ToString(System.Globalization.CultureInfo.InvariantCulture), value]).WaitAsync(cancellationToken) == 1;
}
