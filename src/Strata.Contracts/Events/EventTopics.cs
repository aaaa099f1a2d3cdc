namespace Strata.Contracts.Events;

/// <summary>Topic names (the seed's, plus what modules need). An event's CloudEvents <c>type</c> is <c>strata.&lt;topic&gt;</c>.</summary>
public static class EventTopics
{
    public const string DataIngested = "data.ingested";
    public const string FeaturesComputed = "features.computed";
    /// <summary>A new version of the feature definitions was applied (<c>DefinitionsAppliedEvent</c>).</summary>
    public const string FeatureDefinitionsApplied = "features.definitions_applied";
    public const string TrainingRequested = "training.requested";
    public const string ModelTrained = "model.trained";
    public const string ModelRegistered = "model.registered";
    public const string ModelAliasChanged = "model.alias_changed";
    /// <summary>A model's traffic policy changed (<see cref="ModelTrafficChangedEvent"/>).</summary>
    public const string ModelTrafficChanged = "model.traffic_changed";
    /// <summary>A rollout took a step: started, advanced, waited, paused, promoted, rolled back (<see cref="RolloutChangedEvent"/>).</summary>
    public const string ModelRollout = "model.rollout";
    /// <summary>Served inputs or scores drifted from training (<see cref="ModelDriftDetectedEvent"/>).</summary>
    public const string ModelDriftDetected = "model.drift_detected";
    /// <summary>Quality on labelled outcomes fell below training's (<see cref="ModelPerformanceDegradedEvent"/>).</summary>
    public const string ModelPerformanceDegraded = "model.performance_degraded";
    public const string PredictionRequested = "prediction.requested";
    public const string PredictionMade = "prediction.made";
    /// <summary>The outcome of an earlier prediction (<see cref="PredictionFeedbackEvent"/>), keyed by request id.</summary>
    public const string PredictionFeedback = "prediction.feedback";
    /// <summary>A request routed by a traffic policy that got no prediction (<see cref="PredictionFailedEvent"/>).</summary>
    public const string PredictionFailed = "prediction.failed";
    /// <summary>Card transactions of the fraud reference system (a stream source of the feature store).</summary>
    public const string CardTransactions = "card.transactions";
    /// <summary>Events a consumer group gave up on (<see cref="DeadLetterEvent"/>), keyed by group.</summary>
    public const string DeadLetter = "events.deadletter";
    /// <summary>A state-changing request by a principal (<c>Strata.Contracts.Security.RequestAuditedEvent</c>).</summary>
    public const string RequestAudited = "security.request_audited";

    /// <summary>Every platform topic: the audit log records all of them.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        DataIngested, FeaturesComputed, FeatureDefinitionsApplied, TrainingRequested, ModelTrained, ModelRegistered, ModelAliasChanged, ModelTrafficChanged, ModelRollout,
        ModelDriftDetected, ModelPerformanceDegraded, PredictionRequested, PredictionMade, PredictionFeedback, PredictionFailed, CardTransactions, DeadLetter, RequestAudited,
    ];
}
