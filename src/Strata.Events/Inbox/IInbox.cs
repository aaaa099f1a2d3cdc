namespace Strata.Events.Inbox;

/// <summary>The event ids each consumer group has finished handling, so a redelivered event is not handled twice.</summary>
public interface IInbox
{
    /// <summary>Which of <paramref name="ids"/> the group has already handled.</summary>
    ValueTask<IReadOnlySet<string>> SeenAsync(string group, IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default);

    ValueTask RecordAsync(string group, IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default);
}
