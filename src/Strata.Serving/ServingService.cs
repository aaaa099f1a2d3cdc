using Strata.Contracts.Errors;
using Strata.Contracts.Serving;
using Strata.Serving.Models;

namespace Strata.Serving;

/// <summary>The Serving module in process (<see cref="IServingClient"/>): request inputs go through the model's
/// compiled feature view (fetched from the Features module when the model loads) and then the model, with no
/// network hop per request in either topology.</summary>
public sealed class ServingService(ModelHost host, PredictionLog log) : IServingClient
{
    /// <summary>Scores inputs already in the order of the model's view inputs, and records it in the prediction log.</summary>
    public PredictionResult Predict(LoadedModel model, double[] inputs, long startedTimestamp, string? traceId)
    {
        ArgumentNullException.ThrowIfNull(model);
        var features = model.Features.Compute(inputs);
        var prediction = model.Score(features);
        log.Record(model, inputs, features, prediction, startedTimestamp, traceId);
        return new PredictionResult(prediction, model.VersionText);
    }

    /// <summary>Scores a feature vector assembled by the feature store (the feature-aware path), and records it.</summary>
    public PredictionResult PredictFeatures(LoadedModel model, double[] features, long startedTimestamp, string? traceId)
    {
        ArgumentNullException.ThrowIfNull(model);
        var prediction = model.Score(features);
        log.Record(model, [], features, prediction, startedTimestamp, traceId);
        return new PredictionResult(prediction, model.VersionText);
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
        return Task.FromResult(Predict(model, ordered, System.Diagnostics.Stopwatch.GetTimestamp(), System.Diagnostics.Activity.Current?.TraceId.ToString()));
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
