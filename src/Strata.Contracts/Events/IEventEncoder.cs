namespace Strata.Contracts.Events;

/// <summary>Encodes an event without publishing it (for an outbox).</summary>
public interface IEventEncoder
{
    EncodedEvent Encode<T>(string topic, string subject, T data);
}
