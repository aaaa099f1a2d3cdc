using Strata.Contracts.Errors;
using Strata.Contracts.Serving;
using Strata.Serving.Models;

namespace Strata.Serving;

/// <summary>The Serving module in process (<see cref="IServingClient"/>): request inputs go through the model's
/// compiled feature view (fetched from the Features module when the model loads) and then the model, with no
/// network hop per request in either topology.</summary>
public sealed class ServingService(ModelHost host) : IServingClient
{
    /// <summary>Scores inputs already in the order of the model's view inputs.</summary>
    public static PredictionResult Predict(LoadedModel model, double[] inputs)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new PredictionResult(model.Score(model.Features.Compute(inputs)), model.VersionText);
    }

    public Task<PredictionResult> PredictAsync(IReadOnlyDictionary<string, double> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var model = CurrentOrThrow();
        var ordered = new double[model.View.Inputs.Count];
        for (var i = 0; i < ordered.Length; i++)
        {
            var name = model.View.Inputs[i].Name;
            ordered[i] = inputs.TryGetValue(name, out var value) ? value : throw new InputValidationException(name, "is required");
        }
        return Task.FromResult(Predict(model, ordered));
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
