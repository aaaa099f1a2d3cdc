using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Features.Views;

namespace Strata.Features;

/// <summary>The Features module in process (<see cref="IFeaturesClient"/>): applies views offline to dataset
/// versions read through the Data module's client, and online to single request rows.</summary>
public sealed class FeaturesService(IEnumerable<FeatureView> views, IDataClient data) : IFeaturesClient
{
    private readonly Dictionary<string, FeatureView> _views = views.ToDictionary(v => v.Name, StringComparer.Ordinal);

    public Task<IReadOnlyList<FeatureViewInfo>> ListViewsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<FeatureViewInfo>>([.. _views.Values.OrderBy(v => v.Name, StringComparer.Ordinal).Select(v => v.Info)]);

    public Task<FeatureViewInfo?> GetViewAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(_views.GetValueOrDefault(name)?.Info);

    public FeatureView View(string name) =>
        _views.GetValueOrDefault(name) ?? throw new ResourceNotFoundException("feature view", name);

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
                throw FeatureView.RowError(dataset.Id, r, view.Name, e);
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
