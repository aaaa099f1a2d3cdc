namespace Strata.Contracts.Features;

/// <summary>The Features module as other modules see it: feature view definitions and their one implementation,
/// used offline (training frames) and online (serving) so the two cannot drift apart.</summary>
public interface IFeaturesClient
{
    Task<IReadOnlyList<FeatureViewInfo>> ListViewsAsync(CancellationToken cancellationToken = default);

    Task<FeatureViewInfo?> GetViewAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Offline: applies a view to a dataset version and returns its features and the label, row-aligned.</summary>
    Task<TrainingFrame> BuildTrainingFrameAsync(TrainingFrameRequest request, CancellationToken cancellationToken = default);

    /// <summary>Online: applies a view to one row of inputs, given in the order of <see cref="FeatureViewInfo.Inputs"/>;
    /// returns the features in the order of <see cref="FeatureViewInfo.Features"/>.</summary>
    ValueTask<double[]> ComputeAsync(string view, double[] inputs, CancellationToken cancellationToken = default);
}
