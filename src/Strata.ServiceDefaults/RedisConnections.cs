using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Strata.ServiceDefaults;

/// <summary>One <see cref="IConnectionMultiplexer"/> per Redis configuration in the process, as StackExchange.Redis
/// intends (a multiplexer is thread-safe and pipelines every caller on one socket): the online store and the event
/// transport share it. Connecting starts, asynchronously, when a module first asks for the connection (as the host
/// builds its services), and never fails the caller: the multiplexer reconnects by itself while Redis is away.
/// Blocking commands (XREADGROUP with BLOCK) must not use it; they take a connection of their own
/// (<see cref="ConnectAsync"/>).</summary>
public sealed class RedisConnections : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<IConnectionMultiplexer>>> _connections = new(StringComparer.Ordinal);

    /// <summary>The process's multiplexer for <paramref name="configuration"/>, connecting on first use.</summary>
    public Task<IConnectionMultiplexer> Get(string configuration) =>
        _connections.GetOrAdd(configuration, c => new Lazy<Task<IConnectionMultiplexer>>(() => ConnectAsync(c))).Value;

    /// <summary>A connection of its own (for a caller that owns it: blocking reads, a standalone store). A
    /// <paramref name="role"/> is appended to the client name (<c>CLIENT LIST</c> then tells the connections apart).</summary>
    public static async Task<IConnectionMultiplexer> ConnectAsync(string configuration, string? role = null)
    {
        var options = Options(configuration);
        if (role is not null)
        {
            options.ClientName = $"{options.ClientName ?? "strata"}.{role}";
        }
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    /// <summary>Strata's settings on top of the configuration string: keep retrying when Redis is down at start.</summary>
    public static ConfigurationOptions Options(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 5000;
        options.SyncTimeout = 10_000;
        options.AsyncTimeout = 10_000;
        return options;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections.Values.Where(c => c.IsValueCreated))
        {
            try
            {
                await (await connection.Value).DisposeAsync();
            }
            catch (RedisConnectionException)
            {
                // Never connected: nothing to close.
            }
        }
        _connections.Clear();
    }
}
