using Strata.Contracts.Training;

namespace Strata.Contracts.Events;

/// <summary>Data of <c>training.requested</c>: what to train (the same request as <c>POST /train</c>) and an id the
/// resulting <c>model.trained</c> event echoes.</summary>
public sealed record TrainingRequestedEvent(string RequestId, TrainingRequest Request);
