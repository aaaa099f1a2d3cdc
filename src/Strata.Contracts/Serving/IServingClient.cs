namespace Strata.Contracts.Serving;

/// <summary>The Serving module as other modules see it.</summary>
public interface IServingClient
{
    /// <summary>Scores one row of request inputs (by name) with the served model.</summary>
    Task<PredictionResult> PredictAsync(IReadOnlyDictionary<string, double> inputs, CancellationToken cancellationToken = default);

    Task<ServingStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>The model's traffic here: the policy in force, requests per arm, the shadow's comparison.</summary>
    Task<TrafficStatus> GetTrafficAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>Records outcomes of earlier predictions (published as <c>prediction.feedback</c>); all or none.</summary>
    Task<FeedbackAccepted> RecordFeedbackAsync(IReadOnlyList<PredictionFeedback> feedback, CancellationToken cancellationToken = default);
}
