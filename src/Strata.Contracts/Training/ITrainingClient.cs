namespace Strata.Contracts.Training;

/// <summary>The Training module as other modules see it: train, evaluate on a holdout, register.</summary>
public interface ITrainingClient
{
    Task<TrainingResult> TrainAsync(TrainingRequest request, CancellationToken cancellationToken = default);
}
