namespace Strata.Contracts.Events;

/// <summary>Tells the outbox relay that an outbox has new events (it also polls, so a lost signal only delays).</summary>
public interface IOutboxSignal
{
    void Notify();
}
