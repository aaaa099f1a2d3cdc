using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Events;
using Strata.Contracts.Training;

namespace Strata.Training;

/// <summary>The event-driven way in: a <c>training.requested</c> event becomes a training job (visible in the jobs
/// API like any other), and the event is acknowledged when the job has ended (one at a time; the event stays leased
/// for up to <see cref="MaxTrainingTime"/> so no other member starts it too). A failed job fails the handling (retried,
/// then dead-lettered); a request that fails validation is dead-lettered at once.</summary>
public sealed partial class TrainingRequests(Jobs.TrainingJobs jobs, IEventSubscriber subscriber, ILogger<TrainingRequests> logger) : BackgroundService
{
    public const string ConsumerGroup = "training";
    public static readonly TimeSpan MaxTrainingTime = TimeSpan.FromMinutes(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using var subscription = await subscriber.SubscribeAsync(EventTopics.TrainingRequested, ConsumerGroup, async (e, ct) =>
            {
                var requested = e.DataAs<TrainingRequestedEvent>();
                if (requested?.Request is null || string.IsNullOrEmpty(requested.RequestId))
                {
                    throw new Strata.Contracts.Errors.InputValidationException("data", "a training.requested event needs request_id and request");
                }
                LogRequested(logger, requested.RequestId, requested.Request.Model ?? "(default)");
                var job = jobs.Submit(requested.Request with { RequestId = requested.RequestId });
                var ended = await jobs.WaitAsync(job.Id, ct);
                if (ended.State != TrainingJobStates.Succeeded)
                {
                    throw new InvalidOperationException($"training job {ended.Id} {ended.State}: {ended.Error}");
                }
            }, new SubscriptionOptions { MaxInFlight = 1, AckWait = MaxTrainingTime, MaxAttempts = 2, FromStart = true }, stoppingToken);
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Training requested by event {RequestId} for model {Model}")]
    private static partial void LogRequested(ILogger logger, string requestId, string model);
}
