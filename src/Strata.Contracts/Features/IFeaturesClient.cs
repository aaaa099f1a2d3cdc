namespace Strata.Contracts.Features;

/// <summary>The Features module as other modules see it: feature view definitions and their one implementation,
/// used offline (training frames) and online (serving) so the two cannot drift apart.</summary>
public interface IFeaturesClient
{
    Task<IReadOnlyList<FeatureViewInfo>> ListViewsAsync(CancellationToken cancellationToken = default);

    /// <summary>The view as the definitions in force declare it.</summary>
    Task<FeatureViewInfo?> GetViewAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The view at version <paramref name="version"/> (its hash), from any applied definitions version: a model
    /// keeps the features it was trained with after the definitions move on.</summary>
    Task<FeatureViewInfo?> GetViewVersionAsync(string name, string version, CancellationToken cancellationToken = default);

    /// <summary>Offline: applies a view to a dataset version and returns its features and the label, row-aligned.</summary>
    Task<TrainingFrame> BuildTrainingFrameAsync(TrainingFrameRequest request, CancellationToken cancellationToken = default);

    /// <summary>Online: applies a view to one row of inputs, given in the order of <see cref="FeatureViewInfo.Inputs"/>;
    /// returns the features in the order of <see cref="FeatureViewInfo.Features"/>.</summary>
    ValueTask<double[]> ComputeAsync(string view, double[] inputs, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<EntityInfo>> ListEntitiesAsync(CancellationToken cancellationToken = default);

    Task<IReadOnlyList<PushSourceInfo>> ListPushSourcesAsync(CancellationToken cancellationToken = default);

    Task<IReadOnlyList<FeatureServiceInfo>> ListFeatureServicesAsync(CancellationToken cancellationToken = default);

    /// <summary>The online values of features for entity rows (Feast's <c>get-online-features</c>).</summary>
    Task<OnlineFeaturesResponse> GetOnlineFeaturesAsync(OnlineFeaturesRequest request, CancellationToken cancellationToken = default);

    /// <summary>Writes rows of a push source to the online and/or offline store, all or nothing.</summary>
    Task<PushResult> PushAsync(PushRequest request, CancellationToken cancellationToken = default);

    /// <summary>Point-in-time correct features for entity rows (training data).</summary>
    Task<HistoricalFeaturesResponse> GetHistoricalFeaturesAsync(HistoricalFeaturesRequest request, CancellationToken cancellationToken = default);

    Task<MaterializeResult> MaterializeAsync(MaterializeRequest request, CancellationToken cancellationToken = default);

    Task<MaterializeResult> MaterializeIncrementalAsync(MaterializeIncrementalRequest request, CancellationToken cancellationToken = default);
}
