using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Strata.Contracts.Events;
using Strata.Events.Transport;

namespace Strata.Events;

/// <summary>One group member's loop (see <see cref="EventBus"/>). A batch is acknowledged only after every event in it
/// was handled or dead-lettered; when the process stops mid-batch the rest is left unacknowledged for redelivery.</summary>
internal sealed class EventSubscription(EventBus bus, IEventConsumer? joined, Func<CancellationToken, ValueTask<IEventConsumer>> join, string topic,
    string group, string name, Func<ReceivedEvent, CancellationToken, Task> handler, Func<IReadOnlyList<ReceivedEvent>, CancellationToken, Task>? batchHandler,
    SubscriptionOptions options) : IAsyncDisposable
{
    // Null until the member has joined its group: a broker that is not reachable yet (starting beside this process,
    // restarting) is joined in the background, with backoff.
    private IEventConsumer? _consumer = joined;
    private readonly System.Diagnostics.TagList _tags = EventMetrics.Tags(topic, group);
    private readonly string _spanName = $"process {topic}";
    private static readonly TimeSpan FetchWait = TimeSpan.FromSeconds(1);
    private readonly CancellationTokenSource _stopping = new();
    private Task _pump = Task.CompletedTask;
    private long _handled, _retries, _dead, _duplicates, _redelivered;
    private int _disposed;
    private ResiliencePipeline? _retryPipeline;

    private ResiliencePipeline Retry => _retryPipeline ??= BuildRetry();

    public void Start() => _pump = Task.Run(PumpAsync);

    public SubscriptionStats Stats() => new(topic, group, name, Interlocked.Read(ref _handled), Interlocked.Read(ref _retries),
        Interlocked.Read(ref _dead), Interlocked.Read(ref _duplicates), Interlocked.Read(ref _redelivered));

    private async Task PumpAsync()
    {
        var token = _stopping.Token;
        var failures = 0;
        while (!token.IsCancellationRequested)
        {
            try
            {
                _consumer ??= await join(token);
                var batch = await _consumer.FetchAsync(options.MaxInFlight, FetchWait, token);
                if (batch.Count > 0)
                {
                    await ProcessAsync(batch, token);
                }
                failures = 0;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The broker is unreachable or restarting: keep the member alive and try again with backoff.
                EventBus.LogConsumerTrouble(bus.Logger, name, topic, group, e.Message);
                failures++;
                try
                {
                    await Task.Delay(Backoff(Math.Min(failures, 6), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5)), bus.Time, token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ProcessAsync(IReadOnlyList<Delivery> batch, CancellationToken token)
    {
        var tags = _tags;
        var done = new List<Delivery>(batch.Count);
        var work = new List<(Delivery Delivery, ReceivedEvent? Event)>(batch.Count);
        foreach (var delivery in batch)
        {
            if (delivery.DeliveryCount > 1)
            {
                Interlocked.Increment(ref _redelivered);
                EventMetrics.Redelivered.Add(1, tags);
            }
            if (delivery.TargetGroup is not null && delivery.TargetGroup != group)
            {
                done.Add(delivery);
                continue;
            }
            ReceivedEvent? received = null;
            try
            {
                received = CloudEventCodec.Decode(delivery.Body, delivery.DeliveryCount, topic);
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or JsonException or FormatException)
            {
                // Handled below: an envelope that cannot be read goes straight to the dead letters.
            }
            work.Add((delivery, received));
        }
        // The inbox is keyed by the event's identity (source and id); events meant for this group only (a replay, a
        // re-drive) bypass it.
        var seen = await bus.Inbox.SeenAsync(group, [.. work.Where(w => w.Event is not null && w.Delivery.TargetGroup is null).Select(w => w.Event!.Identity)], token);
        if (seen.Count > 0)
        {
            foreach (var skipped in work.Where(w => w.Event is not null && w.Delivery.TargetGroup is null && seen.Contains(w.Event.Identity)).ToList())
            {
                Interlocked.Increment(ref _duplicates);
                EventMetrics.Duplicates.Add(1, tags);
                done.Add(skipped.Delivery);
                work.Remove(skipped);
            }
        }
        var handled = new List<(Delivery Delivery, string? EventId)>(work.Count);
        if (batchHandler is not null && work.Count > 0 && work.All(w => w.Event is not null) && work.All(w => w.Delivery.DeliveryCount <= options.MaxDeliveries))
        {
            switch (await HandleBatchAsync([.. work.Select(w => w.Event!)], token))
            {
                case true:
                    handled.AddRange(work.Select(w => (w.Delivery, (string?)w.Event!.Identity)));
                    work.Clear();
                    break;
                case null:
                    return; // stopping: nothing of the batch is acknowledged
                default:
                    break; // each event alone below, so only the bad ones are dead-lettered
            }
        }
        if (options.Concurrency <= 1)
        {
            // One at a time, in delivery order (which keeps each key's order): no grouping, no parallel loop.
            foreach (var (delivery, received) in work)
            {
                if (!await HandleAsync(delivery, received, token))
                {
                    break; // stopping: this and the later events stay unacknowledged
                }
                handled.Add((delivery, received?.Identity));
            }
            await FinishAsync(handled, done);
            return;
        }
        var byKey = work.GroupBy(w => w.Delivery.Key, StringComparer.Ordinal).Select(g => g.ToList()).ToList();
        var gate = new Lock();
        await Parallel.ForEachAsync(byKey, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Concurrency), CancellationToken = CancellationToken.None },
            async (items, _) =>
            {
                foreach (var (delivery, received) in items)
                {
                    if (!await HandleAsync(delivery, received, token))
                    {
                        return; // stopping: this and the key's later events stay unacknowledged
                    }
                    lock (gate)
                    {
                        handled.Add((delivery, received?.Identity));
                    }
                }
            });
        await FinishAsync(handled, done);
    }

    /// <summary>Records the handled events in the inbox, then acknowledges them with the skipped ones.</summary>
    private async Task FinishAsync(List<(Delivery Delivery, string? EventId)> handled, List<Delivery> done)
    {
        var ids = new List<string>(handled.Count);
        foreach (var (delivery, id) in handled)
        {
            if (id is not null)
            {
                ids.Add(id);
            }
            done.Add(delivery);
        }
        await bus.Inbox.RecordAsync(group, ids, CancellationToken.None);
        if (done.Count > 0)
        {
            await _consumer!.AckAsync(done, CancellationToken.None);
        }
    }

    /// <summary>True when the delivery is finished (handled or dead-lettered); false when stopping interrupted it.</summary>
    private async Task<bool> HandleAsync(Delivery delivery, ReceivedEvent? received, CancellationToken token)
    {
        var tags = _tags;
        if (received is null)
        {
            return await DeadLetterAsync(delivery, 0, "not a CloudEvents 1.0 JSON envelope", token);
        }
        if (delivery.DeliveryCount > options.MaxDeliveries)
        {
            return await DeadLetterAsync(delivery, 0, $"delivered {delivery.DeliveryCount} times without being acknowledged", token);
        }
        // The first attempt runs here, outside the retry pipeline: most events succeed at once, and the hot path
        // stays a plain call (through Polly it cost ~6% of the embedded bus's events/s). A failure enters the pipeline,
        // whose first "attempt" rethrows it, so Polly decides about it and waits before the second.
        Exception first;
        using (var activity = StartActivity(received))
        {
            try
            {
                await handler(received, token);
                Interlocked.Increment(ref _handled);
                EventMetrics.Handled.Add(1, tags);
                return true;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e)
            {
                activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                first = e;
            }
        }
        var attempt = new Attempt(this, received, first);
        try
        {
            await Retry.ExecuteAsync(static async (attempt, token) =>
            {
                if (attempt.Count++ == 0)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(attempt.First);
                }
                using var activity = attempt.Subscription.StartActivity(attempt.Event);
                try
                {
                    await attempt.Subscription.InvokeHandlerAsync(attempt.Event, token);
                }
                catch (Exception e) when (!token.IsCancellationRequested)
                {
                    activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                    throw;
                }
            }, attempt, token);
            Interlocked.Increment(ref _handled);
            EventMetrics.Handled.Add(1, tags);
            return true;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e)
        {
            EventBus.LogDead(bus.Logger, topic, group, delivery.Id, attempt.Count, e);
            return await DeadLetterAsync(delivery, attempt.Count, $"{e.GetType().Name}: {e.Message}", token);
        }
    }

    private Task InvokeHandlerAsync(ReceivedEvent received, CancellationToken token) => handler(received, token);

    private Task InvokeBatchHandlerAsync(IReadOnlyList<ReceivedEvent> events, CancellationToken token) => batchHandler!(events, token);

    /// <summary>True when the batch handler succeeded, false when it kept failing, null when stopping interrupted it.</summary>
    private async Task<bool?> HandleBatchAsync(IReadOnlyList<ReceivedEvent> events, CancellationToken token)
    {
        try
        {
            await Retry.ExecuteAsync(static (state, token) => new ValueTask(state.Subscription.InvokeBatchHandlerAsync(state.Events, token)),
                (Subscription: this, Events: events), token);
            Interlocked.Add(ref _handled, events.Count);
            EventMetrics.Handled.Add(events.Count, _tags);
            return true;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>Retries of a failing handler with exponential backoff and jitter (Polly), on the bus's clock, up to
    /// <see cref="SubscriptionOptions.MaxAttempts"/> attempts in all. Bad data does not get better with retries: an
    /// <see cref="Strata.Contracts.Errors.InputValidationException"/> goes to the dead letters at once.</summary>
    private ResiliencePipeline BuildRetry() => new ResiliencePipelineBuilder { TimeProvider = bus.Time }
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = Math.Max(0, options.MaxAttempts - 1),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryBaseDelay,
            MaxDelay = options.MaxRetryDelay,
            ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is { } e
                && e is not Strata.Contracts.Errors.InputValidationException
                && !args.Context.CancellationToken.IsCancellationRequested),
            OnRetry = _ =>
            {
                Interlocked.Increment(ref _retries);
                EventMetrics.Retries.Add(1, _tags);
                return default;
            },
        })
        .Build();

    /// <summary>A failed delivery's retries: the failure of its first attempt and the count so far (no closure).</summary>
    private sealed class Attempt(EventSubscription subscription, ReceivedEvent received, Exception first)
    {
        public EventSubscription Subscription { get; } = subscription;
        public ReceivedEvent Event { get; } = received;
        public Exception First { get; } = first;
        public int Count { get; set; }
    }

    private async Task<bool> DeadLetterAsync(Delivery delivery, int attempts, string error, CancellationToken token)
    {
        JsonElement envelope;
        try
        {
            envelope = JsonDocument.Parse(delivery.Body).RootElement.Clone();
        }
        catch (JsonException)
        {
            envelope = JsonSerializer.SerializeToElement(Encoding.UTF8.GetString(delivery.Body.Span));
        }
        var letter = new DeadLetterEvent(group, topic, delivery.Id, attempts, error, bus.Time.GetUtcNow(), envelope);
        try
        {
            await bus.PublishAsync(EventTopics.DeadLetter, group, letter, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return false;
        }
        Interlocked.Increment(ref _dead);
        EventMetrics.DeadLettered.Add(1, _tags);
        return true;
    }

    /// <summary>The handler runs in the event's trace: a span of <see cref="EventMetrics.ActivitySource"/> when something
    /// listens, else a bare activity, so what the handler publishes carries the same trace id either way.</summary>
    private Activity? StartActivity(ReceivedEvent received)
    {
        ActivityContext.TryParse(received.TraceParent, null, out var parent);
        var activity = EventMetrics.ActivitySource.StartActivity(_spanName, ActivityKind.Consumer, parent);
        if (activity is null && received.TraceParent is not null)
        {
            return new Activity(_spanName).SetParentId(received.TraceParent).Start();
        }
        activity?.SetTag("messaging.destination.name", topic);
        activity?.SetTag("messaging.consumer.group.name", group);
        activity?.SetTag("messaging.message.id", received.Id);
        return activity;
    }

    internal static TimeSpan Backoff(int attempt, TimeSpan baseDelay, TimeSpan max)
    {
        var exponential = baseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1);
        var jittered = Math.Min(exponential, max.TotalMilliseconds) * (0.5 + (Random.Shared.NextDouble() * 0.5));
        return TimeSpan.FromMilliseconds(jittered);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        bus.Forget(this);
        await _stopping.CancelAsync();
        await _pump;
        if (_consumer is not null)
        {
            await _consumer.DisposeAsync();
        }
        _stopping.Dispose();
    }
}
