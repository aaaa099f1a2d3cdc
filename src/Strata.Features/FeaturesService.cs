using Strata.Contracts;
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
        if (request.FeatureService is not null || request.Features is { Count: > 0 })
        {
            return await RetrievedFrameAsync(request, cancellationToken);
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

    /// <summary>A frame by point-in-time retrieval: each label row's features as of its <c>event_timestamp</c> (ttl
    /// honoured, nothing from after it), in the selection's order. A row with a feature missing at its time is left out
    /// (counted in <see cref="FeatureSelection.DroppedRows"/>); string features are refused (a model takes numbers: code
    /// them in an on-demand view).</summary>
    private async Task<TrainingFrame> RetrievedFrameAsync(TrainingFrameRequest request, CancellationToken cancellationToken)
    {
        if (request.View is not null)
        {
            throw new InputValidationException("view", "give a view, or a feature service / features, not both");
        }
        var repository = Repository;
        var dataset = await data.GetDatasetAsync(request.DatasetId, cancellationToken) ?? throw new ResourceNotFoundException("dataset", request.DatasetId);
        var labelColumn = dataset.Schema.FirstOrDefault(c => c.Name == request.Label)
            ?? throw new InputValidationException("label", $"label dataset {dataset.Id} has no column '{request.Label}' (columns: {string.Join(", ", dataset.Schema.Select(c => c.Name))})");
        if (!labelColumn.Type.IsNumeric() && labelColumn.Type != LogicalType.Bool)
        {
            throw new InputValidationException("label", $"'{request.Label}' is {WireNames.Of(labelColumn.Type)}; a label is a number (0/1, a class number, a value)");
        }
        var features = request.FeatureService is null ? request.Features : null;
        var plan = repository.Resolve(features, request.FeatureService, fullFeatureNames: false, [.. dataset.Schema.Select(c => c.Name)]);
        if (plan.FeatureNames.Contains(request.Label))
        {
            throw new InputValidationException("label", $"'{request.Label}' is also a feature's name; a label cannot be a feature");
        }
        var refs = new List<string>();
        var types = new List<LogicalType>();
        foreach (var s in plan.Selections.Where(s => !s.Hidden))
        {
            for (var i = 0; i < s.Features.Count; i++)
            {
                if (s.Visible[i])
                {
                    refs.Add($"{s.ViewName}:{s.Features[i].Name}");
                    types.Add(s.Features[i].Type);
                }
            }
        }
        var text = refs.Select((r, i) => (r, types[i])).FirstOrDefault(p => p.Item2 == LogicalType.String);
        if (text.r is not null)
        {
            throw new InputValidationException(request.FeatureService is null ? "features" : "feature_service",
                $"feature '{text.r}' is a string; a model takes numbers (code it in an on-demand view, e.g. country == 'US')");
        }
        // Inline up to the retrieval's limit; past it, written as a dataset version and read back as numbers.
        var large = dataset.Rows > historical.MaxInlineRows;
        var retrieved = await historical.RetrieveAsync(new HistoricalFeaturesRequest(EntityDatasetId: dataset.Id, Features: features,
            FeatureService: request.FeatureService, OutputDatasetName: large ? $"{dataset.Name}_training_frame" : null), cancellationToken);
        var rows = checked((int)retrieved.Rows);
        List<Func<int, double?>> columns;
        Func<int, double?> labelOf;
        if (large)
        {
            var read = await data.ReadColumnsAsync(retrieved.Dataset!.Id, [.. plan.FeatureNames, request.Label], cancellationToken);
            Func<int, double?> Reader(string name) => r => read.Columns[name][r] is var v && double.IsFinite(v) ? v : null;
            columns = [.. plan.FeatureNames.Select(Reader)];
            labelOf = Reader(request.Label);
        }
        else
        {
            columns = [.. plan.FeatureNames.Select(n => retrieved.Data![n]).Select(c => (Func<int, double?>)(r => Number(c[r])))];
            var labelValues = retrieved.Data![request.Label];
            labelOf = r => Number(labelValues[r]);
        }
        var kept = new List<int>(rows);
        for (var r = 0; r < rows; r++)
        {
            if (columns.TrueForAll(c => c(r) is not null) && labelOf(r) is not null)
            {
                kept.Add(r);
            }
        }
        if (kept.Count == 0)
        {
            throw new InputValidationException("dataset_id", $"none of the {rows} label rows of {dataset.Id} has every feature at its event_timestamp (are the views materialised, and the timestamps after the features'?)");
        }
        var frameFeatures = columns.Select(c => kept.Select(r => c(r)!.Value).ToArray()).ToList();
        var label = kept.Select(r => labelOf(r)!.Value).ToArray();
        var selection = new FeatureSelection(request.FeatureService, refs, plan.JoinKeys,
            plan.EntityViews.Concat(plan.OnDemandViews).ToDictionary(s => s.ViewName, s => repository.ViewInfo(s.ViewName)!.Version, StringComparer.Ordinal),
            repository.Version, rows - kept.Count);
        return new TrainingFrame(dataset.Id, selection.Name, selection.Version, kept.Count, plan.FeatureNames, frameFeatures, label) { Selection = selection };
    }

    private static double? Number(object? value) => value switch
    {
        double d when double.IsFinite(d) => d,
        long l => l,
        int i => i,
        bool b => b ? 1 : 0,
        System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Number } e => e.GetDouble(),
        System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.True } => 1,
        System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.False } => 0,
        _ => null,
    };

    public ValueTask<double[]> ComputeAsync(string view, double[] inputs, CancellationToken cancellationToken = default)
    {
        return ValueTask.FromResult(View(view).Compute(inputs));
    }
}
