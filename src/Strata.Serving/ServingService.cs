using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Contracts.Serving;
using Strata.Serving.Models;

namespace Strata.Serving;

/// <summary>The Serving module in process (<see cref="IServingClient"/>): request inputs go through the model's
/// feature view (the Features module, in process or over HTTP) and then the loaded model.</summary>
public sealed class ServingService(ModelHost host, IFeaturesClient features) : IServingClient
{
    /// <summary>Scores inputs already in the order of the model's view inputs.</summary>
    public async ValueTask<PredictionResult> PredictAsync(LoadedModel model, double[] inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        var vector = await features.ComputeAsync(model.View.Name, inputs, cancellationToken);
        return new PredictionResult(model.Score(vector), model.VersionText);
    }

    public async Task<PredictionResult> PredictAsync(IReadOnlyDictionary<string, double> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var model = CurrentOrThrow();
        var ordered = new double[model.View.Inputs.Count];
        for (var i = 0; i < ordered.Length; i++)
        {
            var name = model.View.Inputs[i].Name;
            ordered[i] = inputs.TryGetValue(name, out var value) ? value : throw new InputValidationException(name, "is required");
        }
        return await PredictAsync(model, ordered, cancellationToken);
    }

    public Task<ServingStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var model = host.Current;
        return Task.FromResult(new ServingStatus(host.Options.Model, host.Options.Alias, model is not null,
            model?.Version.Version, model?.LoadedAt, model?.View.Name));
    }

    public LoadedModel CurrentOrThrow() => host.Current
        ?? throw new DependencyUnavailableException("serving", $"no version of {host.Options.Model}@{host.Options.Alias} is loaded yet");
}
