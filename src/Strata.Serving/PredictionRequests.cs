using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Serving.Models;

namespace Strata.Serving;

/// <summary>The event-driven way to ask for a prediction: each <c>prediction.requested</c> event is scored with the
/// model being served — routed by its traffic policy as <c>/predict</c> is: header rules and a sticky header from the
/// event's headers, a sticky key from its inputs, weights, and the shadow mirrored — and answered with a
/// <c>prediction.made</c> event carrying its request id, the version and the arm (always published, not sampled: the
/// requester waits for it). Missing inputs dead-letter the request at once; no model loaded yet is retried.</summary>
public sealed partial class PredictionRequests(ServingService serving, Traffic.TrafficRouter traffic, IEventSubscriber subscriber, IEventPublisher events,
    TimeProvider time, ILogger<PredictionRequests> logger) : BackgroundService
{
    public const string ConsumerGroup = "serving-predictions";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using var subscription = await subscriber.SubscribeAsync(EventTopics.PredictionRequested, ConsumerGroup, HandleAsync,
                new SubscriptionOptions { MaxInFlight = 256, Concurrency = 4, FromStart = true }, stoppingToken);
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task HandleAsync(ReceivedEvent e, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var request = e.DataAs<PredictionRequestedEvent>();
        if (request is null || string.IsNullOrEmpty(request.RequestId) || request.Inputs is null)
        {
            throw new InputValidationException("data", "a prediction.requested event needs request_id and inputs");
        }
        var policy = traffic.PolicyOf(serving.DefaultModel);
        MlNetModel model;
        Traffic.Route route = default;
        byte[]? body = null;
        if (policy is null)
        {
            model = serving.CurrentOrThrow();
        }
        else
        {
            // The inputs as the JSON body /predict would carry (where a sticky key is looked up), the headers as its headers.
            body = JsonSerializer.SerializeToUtf8Bytes(request.Inputs);
            var headers = new HeaderDictionary();
            foreach (var (name, value) in request.Headers ?? new Dictionary<string, string>())
            {
                headers[name] = value;
            }
            route = policy.Choose(headers, new ReadOnlySequence<byte>(body));
            model = ServingService.ForPredict(route.Model);
        }
        var ordered = new double[model.View.Inputs.Count];
        for (var i = 0; i < ordered.Length; i++)
        {
            var name = model.View.Inputs[i].Name;
            ordered[i] = request.Inputs.TryGetValue(name, out var value) && double.IsFinite(value) ? value
                : throw new InputValidationException($"inputs.{name}", "is required (a finite number)");
        }
        var features = model.Features.Compute(ordered);
        var prediction = model.Score(features);
        var inputs = model.View.Inputs.Select((f, i) => (f.Name, ordered[i])).ToDictionary(p => p.Name, p => p.Item2, StringComparer.Ordinal);
        var named = model.View.Features.Select((f, i) => (f.Name, Value: i < features.Length ? features[i] : double.NaN))
            .ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        await events.PublishAsync(EventTopics.PredictionMade, $"{model.Version.Model}/{model.VersionText}", new PredictionMadeEvent(
            model.Version.Model, model.VersionText, inputs, named, prediction, Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            Activity.Current?.TraceId.ToString(), time.GetUtcNow(), request.RequestId, null, policy is null ? null : route.Arm, policy?.Version.Version), cancellationToken);
        if (policy is not null && route.Shadow is { } shadow)
        {
            traffic.MirrorPredict(policy, shadow, body!, [prediction], started);
        }
        LogAnswered(logger, request.RequestId, prediction);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "prediction.requested {RequestId} answered: {Prediction}")]
    private static partial void LogAnswered(ILogger logger, string requestId, double prediction);
}
