using System.Text.Json;

namespace Strata.Contracts.Events;

/// <summary>Data of an <c>events.deadletter</c> event: a consumer group gave up on <see cref="Event"/> (its whole
/// CloudEvents envelope) after <see cref="Attempts"/> attempts; <see cref="Error"/> is the last failure.</summary>
public sealed record DeadLetterEvent(string Group, string Topic, string EventId, int Attempts, string Error, DateTimeOffset FailedAt, JsonElement Event);
