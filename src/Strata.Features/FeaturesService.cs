using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Features.Definitions;
using Strata.Features.Offline;
using Strata.Features.Store;
using Strata.Features.Views;

namespace Strata.Features;

/// <summary>The Features module in process (<see cref="IFeaturesClient"/>): the feature store's definitions, online
/// reads, pushes, point-in-time retrieval and materialisation, and on-demand views applied to dataset versions
/// (training frames) and to single request rows.</summary>
public sealed class FeaturesService(
    IFeatureRepositorySource definitions,
    IDataClient data,
    OnlineFeatureServer online,
    PushService push,
    HistoricalRetrieval historical,
    Materializer materializer) : IFeaturesClient
{
    private FeatureRepository Repository => definitions.Current;

    public Task<IReadOnlyList<FeatureViewInfo>> ListViewsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(Repository.ViewInfos());

    public Task<FeatureViewInfo?> GetViewAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(Repository.ViewInfo(name));

    public Task<FeatureViewInfo?> GetViewVersionAsync(string name, string version, CancellationToken cancellationToken = default) =>
        Task.FromResult(definitions is FeatureDefinitions applied ? applied.FindView(name, version)
            : Repository.ViewInfo(name) is { } view && view.Version == version ? view : null);

    public OnDemandFeatureView View(string name) =>
        Repository.FindOnDemand(name) ?? throw (Repository.FindView(name) is null
            ? new ResourceNotFoundException("feature view", name)
            : new InputValidationException("view", $"'{name}' is a stored view; only on-demand views compute from inputs"));

    public Task<IReadOnlyList<EntityInfo>> ListEntitiesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<EntityInfo>>([.. Repository.Entities.OrderBy(e => e.Name, StringComparer.Ordinal).Select(e => e.Info)]);

    public Task<IReadOnlyList<PushSourceInfo>> ListPushSourcesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<PushSourceInfo>>([.. Repository.Sources.OrderBy(s => s.Name, StringComparer.Ordinal).Select(Repository.SourceInfo)]);

    public Task<IReadOnlyList<FeatureServiceInfo>> ListFeatureServicesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<FeatureServiceInfo>>([.. Repository.Services.OrderBy(s => s.Name, StringComparer.Ordinal).Select(Repository.ServiceInfo)]);

    public Task<OnlineFeaturesResponse> GetOnlineFeaturesAsync(OnlineFeaturesRequest request, CancellationToken cancellationToken = default) =>
        online.GetAsync(request, cancellationToken);

    public Task<PushResult> PushAsync(PushRequest request, CancellationToken cancellationToken = default) =>
        push.PushAsync(request, cancellationToken);

    public Task<HistoricalFeaturesResponse> GetHistoricalFeaturesAsync(HistoricalFeaturesRequest request, CancellationToken cancellationToken = default) =>
        historical.RetrieveAsync(request, cancellationToken);

    public Task<MaterializeResult> MaterializeAsync(MaterializeRequest request, CancellationToken cancellationToken = default) =>
        materializer.MaterializeAsync(request, cancellationToken);

    public Task<MaterializeResult> MaterializeIncrementalAsync(MaterializeIncrementalRequest request, CancellationToken cancellationToken = default) =>
        materializer.MaterializeIncrementalAsync(request, cancellationToken);

    public async Task<TrainingFrame> BuildTrainingFrameAsync(TrainingFrameRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.DatasetId))
        {
            throw new InputValidationException("dataset_id", "is required");
        }
        if (string.IsNullOrWhiteSpace(request.Label))
        {
            throw new InputValidationException("label", "is required");
        }
        var view = View(request.View ?? string.Empty);
        var dataset = await data.GetDatasetAsync(request.DatasetId, cancellationToken)
            ?? throw new ResourceNotFoundException("dataset", request.DatasetId);
        var inputNames = view.Inputs.Select(i => i.Name).ToList();
        if (inputNames.Contains(request.Label))
        {
            throw new InputValidationException("label", $"'{request.Label}' is an input of view '{view.Name}'; a label cannot be a feature");
        }
        foreach (var column in inputNames.Append(request.Label))
        {
            if (dataset.Schema.All(c => c.Name != column))
            {
                throw new InputValidationException(column == request.Label ? "label" : "view",
                    $"dataset {dataset.Id} has no column '{column}' (columns: {string.Join(", ", dataset.Schema.Select(c => c.Name))})");
            }
        }
        var frame = await data.ReadColumnsAsync(dataset.Id, [.. inputNames, request.Label], cancellationToken);
        var rows = checked((int)frame.Rows);
        var features = view.Features.Select(_ => new double[rows]).ToArray();
        var inputRow = new double[inputNames.Count];
        for (var r = 0; r < rows; r++)
        {
            for (var i = 0; i < inputNames.Count; i++)
            {
                inputRow[i] = frame.Columns[inputNames[i]][r];
            }
            double[] featureRow;
            try
            {
                featureRow = view.Compute(inputRow);
            }
            catch (InputValidationException e)
            {
                throw OnDemandFeatureView.RowError(dataset.Id, r, view.Name, e);
            }
            for (var f = 0; f < features.Length; f++)
            {
                features[f][r] = featureRow[f];
            }
        }
        var label = frame.Columns[request.Label];
        return new TrainingFrame(dataset.Id, view.Name, view.Info.Version, rows, [.. view.Features.Select(f => f.Name)], features, label);
    }

    public ValueTask<double[]> ComputeAsync(string view, double[] inputs, CancellationToken cancellationToken = default)
    {
        return ValueTask.FromResult(View(view).Compute(inputs));
    }
}
