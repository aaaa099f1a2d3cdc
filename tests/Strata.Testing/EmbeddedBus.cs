using Microsoft.Extensions.Logging.Abstractions;
using Strata.Events;
using Strata.Events.Embedded;
using Strata.Events.Inbox;

namespace Strata.Testing;

/// <summary>A real <see cref="EventBus"/> over an <see cref="EmbeddedEventLog"/> in a folder, for tests of one module.</summary>
public static class EmbeddedBus
{
    public static EventBus Create(string folder, string source = "/strata/test", EmbeddedLogOptions? options = null)
    {
        var log = new EmbeddedEventLog(Path.Combine(folder, "log"), options ?? new EmbeddedLogOptions(), TimeProvider.System);
        var inbox = new SqliteInbox(Path.Combine(folder, "inbox.db"), TimeProvider.System, TimeSpan.FromDays(1));
        return new EventBus(log, new CloudEventCodec(TimeProvider.System, source), inbox, NullLogger<EventBus>.Instance);
    }
}
