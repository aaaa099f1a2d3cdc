using System.Text.RegularExpressions;
using Strata.Events.Transport;

namespace Strata.Events.Embedded;

/// <summary>The default broker: a durable log per topic on local disk (<c>&lt;dir&gt;/&lt;topic&gt;/</c>), consumer
/// group positions kept beside it. Survives a restart of its process with every acknowledged publish and every
/// group's position; needs no server. Other processes reach it through the Events module's HTTP API.</summary>
public sealed partial class EmbeddedEventLog(string directory, EmbeddedLogOptions options, TimeProvider time) : IEventTransport
{
    private readonly Dictionary<string, TopicLog> _topics = new(StringComparer.Ordinal);
    private bool _disposed;

    public string Name => "embedded";

    public string Directory { get; } = directory;

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex NamePattern();

    /// <summary>Topic and group names: letters, digits, '.', '_', '-' (up to 128; they become file names).</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    private TopicLog Topic(string topic)
    {
        if (!IsValidName(topic))
        {
            throw new ArgumentException($"'{topic}' is not a valid topic name", nameof(topic));
        }
        lock (_topics)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_topics.TryGetValue(topic, out var log))
            {
                log = new TopicLog(topic, Path.Combine(Directory, topic), options, time);
                _topics[topic] = log;
            }
            return log;
        }
    }

    public ValueTask PublishAsync(string topic, IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
    {
        var log = Topic(topic);
        lock (log.Gate)
        {
            log.Append(messages);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<IEventConsumer> OpenConsumerAsync(string topic, string group, ConsumerSettings settings, CancellationToken cancellationToken = default)
    {
        if (!IsValidName(group))
        {
            throw new ArgumentException($"'{group}' is not a valid consumer group name", nameof(group));
        }
        var log = Topic(topic);
        lock (log.Gate)
        {
            return ValueTask.FromResult<IEventConsumer>(new EmbeddedConsumer(log, log.Group(group, settings.FromStart), settings));
        }
    }

    public ValueTask<IReadOnlyList<ConsumerGroupState>> DescribeAsync(string topic, CancellationToken cancellationToken = default)
    {
        // Reading about a topic that has no log yet creates none (issue 24: read-only requests change nothing).
        bool known;
        lock (_topics)
        {
            known = _topics.ContainsKey(topic) || (IsValidName(topic) && System.IO.Directory.Exists(Path.Combine(Directory, topic)));
        }
        if (!known)
        {
            return IsValidName(topic)
                ? ValueTask.FromResult<IReadOnlyList<ConsumerGroupState>>([])
                : throw new ArgumentException($"'{topic}' is not a valid topic name", nameof(topic));
        }
        var log = Topic(topic);
        lock (log.Gate)
        {
            return ValueTask.FromResult<IReadOnlyList<ConsumerGroupState>>(log.Groups.Select(g => g.State()).ToList());
        }
    }

    /// <summary>Every topic with a log on disk.</summary>
    public IReadOnlyList<string> Topics() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.EnumerateDirectories(Directory).Select(Path.GetFileName).OfType<string>().Where(IsValidName).Order(StringComparer.Ordinal).ToList()
            : [];

    public ValueTask DisposeAsync()
    {
        lock (_topics)
        {
            if (_disposed)
            {
                return ValueTask.CompletedTask;
            }
            _disposed = true;
            foreach (var log in _topics.Values)
            {
                lock (log.Gate)
                {
                    log.Dispose();
                }
            }
        }
        return ValueTask.CompletedTask;
    }
}
