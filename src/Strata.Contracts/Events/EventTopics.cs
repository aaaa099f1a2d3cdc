namespace Strata.Contracts.Events;

/// <summary>Topic names (the seed's, plus what modules need). An event's CloudEvents <c>type</c> is <c>strata.&lt;topic&gt;</c>.</summary>
public static class EventTopics
{
    public const string DataIngested = "data.ingested";
    public const string FeaturesComputed = "features.computed";
    public const string TrainingRequested = "training.requested";
    public const string ModelTrained = "model.trained";
    public const string ModelRegistered = "model.registered";
    public const string ModelAliasChanged = "model.alias_changed";
    public const string PredictionRequested = "prediction.requested";
    public const string PredictionMade = "prediction.made";
}
