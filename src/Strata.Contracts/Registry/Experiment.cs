using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Strata.Contracts.Errors;
using Strata.Contracts.Http;

namespace Strata.Contracts.Registry;

/// <summary>What <c>POST /api/experiments</c> takes: an A/B (or A/B/n) test of a model's versions. The first arm is the
/// control; users are assigned by <see cref="Sticky"/> (required: a user sees one arm) with the arms' weights; every
/// exposure is logged (a routed prediction) and joined to the outcomes fed back.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ExperimentSpec
{
    /// <summary>The mean outcome per exposure: labels (a conversion rate for 0/1 labels), missing outcomes counting 0.</summary>
    public const string LabelMean = "label_mean";

    /// <summary>The mean value per exposure (revenue per exposure), missing outcomes counting 0.</summary>
    public const string ValueMean = "value_mean";

    /// <summary>The log-loss of the predictions on labelled outcomes (model quality; lower is better).</summary>
    public const string LogLoss = "log_loss";

    public string? Name { get; init; }

    public string? Model { get; init; }

    public IReadOnlyList<ExperimentArm>? Arms { get; init; }

    public StickyAssignment? Sticky { get; init; }

    public string Metric { get; init; } = LabelMean;

    /// <summary>The false-positive rate of each arm's comparison with the control, held however often results are read.</summary>
    public double Alpha { get; init; } = 0.05;

    /// <summary>The sample per arm the test is tuned for (its sharpest point); results are reported before it.</summary>
    public int MinSamples { get; init; } = 1000;

    public ExperimentSpec Normalized()
    {
        if (Model is null)
        {
            throw new InputValidationException("model", "is required");
        }
        AliasName.ValidateModelName(Model);
        if (Name is { } name && (name.Length is 0 or > 128 || name.Any(char.IsControl)))
        {
            throw new InputValidationException("name", "must be 1 to 128 characters, none of them control characters");
        }
        if (Arms is not { Count: >= 2 and <= TrafficPolicy.MaxArms })
        {
            throw new InputValidationException("arms", $"an experiment has 2 to {TrafficPolicy.MaxArms} arms (the first is the control)");
        }
        var arms = new List<ExperimentArm>();
        for (var i = 0; i < Arms.Count; i++)
        {
            var arm = Arms[i] ?? throw new InputValidationException($"arms[{i}]", "must be an object");
            TrafficTarget.Validate(arm.Target, $"arms[{i}].target");
            if (arm.Weight is not (> 0 and <= 10_000))
            {
                throw new InputValidationException($"arms[{i}].weight", "must be an integer from 1 to 10000");
            }
            var armName = arm.Name ?? arm.Target!.ToString();
            if (!AliasName.IsWellFormed(armName) || arms.Any(a => a.Name == armName))
            {
                throw new InputValidationException($"arms[{i}].name", $"'{armName}' must be a distinct name of letters, digits, '_' or '-'");
            }
            arms.Add(arm with { Name = armName });
        }
        if (Sticky is null)
        {
            throw new InputValidationException("sticky", "is required: each user must see one arm (a request field such as user_id, or a header)");
        }
        Sticky.Validate();
        if (Metric is not (LabelMean or ValueMean or LogLoss))
        {
            throw new InputValidationException("metric", $"must be {LabelMean}, {ValueMean} or {LogLoss}");
        }
        if (!(Alpha is > 0 and < 0.5))
        {
            throw new InputValidationException("alpha", "must be above 0 and below 0.5");
        }
        if (MinSamples is < 10 or > 100_000_000)
        {
            throw new InputValidationException("min_samples", "must be from 10 to 100,000,000");
        }
        return this with { Name = Name ?? $"{Model} {string.Join(" vs ", arms.Select(a => a.Name))}", Arms = arms };
    }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ExperimentArm
{
    public string? Name { get; init; }

    public TrafficTarget? Target { get; init; }

    public int? Weight { get; init; }
}

/// <summary>An experiment as stored, with each arm's version as resolved when it started.</summary>
public sealed record Experiment(string Id, string Model, ExperimentSpec Spec, string Status, IReadOnlyDictionary<string, int> ArmVersions,
    DateTimeOffset StartedAt, DateTimeOffset? StoppedAt)
{
    public const string Running = "running";
    public const string Stopped = "stopped";
}

/// <summary><c>GET /api/experiments/{id}</c>: the experiment, each arm's figures, and the sample-ratio check.</summary>
public sealed record ExperimentResults(Experiment Experiment, IReadOnlyList<ArmResult> Arms, SampleRatioCheck SampleRatio, DateTimeOffset AsOf);

/// <summary>One arm: exposures (logged predictions), outcomes received, the metric's mean with its 95% confidence
/// interval at this sample; against the control, the difference with its always-valid (1 − α) interval and the
/// always-valid p-value (valid however often it is read), and whether it is significant at α.</summary>
public sealed record ArmResult(string Arm, int Version, int Weight, long Exposures, long Outcomes, double? Mean, double? Low, double? High,
    double? Difference, double? DifferenceLow, double? DifferenceHigh, double? PValue, bool Significant);

/// <summary>Whether exposures split as the weights say (Pearson's chi-square, k − 1 degrees of freedom): a p-value below
/// 0.001 is a sample-ratio mismatch, and the results are not to be trusted (assignment or logging is broken).</summary>
public sealed record SampleRatioCheck(double ChiSquare, int DegreesOfFreedom, double PValue, bool Mismatch);

/// <summary>Experiments (<c>/api/experiments</c>).</summary>
public interface IExperimentsClient
{
    Task<Experiment> StartAsync(ExperimentSpec spec, CancellationToken cancellationToken = default);

    Task<ExperimentResults?> GetAsync(string id, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<Experiment>> ListAsync(string? model = null, CancellationToken cancellationToken = default);

    /// <summary>Stops assigning (the model's traffic policy is cleared); the results stay readable, frozen at the stop.</summary>
    Task<Experiment> StopAsync(string id, CancellationToken cancellationToken = default);
}

public static class ExperimentRoutes
{
    public const string Prefix = "/api/experiments";
    public const string Experiment = "/{id}";
    public const string Stop = "/{id}/stop";
}

public sealed class HttpExperimentsClient(HttpClient http) : IExperimentsClient
{
    public async Task<Experiment> StartAsync(ExperimentSpec spec, CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<Experiment>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Post, ExperimentRoutes.Prefix) { Content = JsonContent.Create(spec, options: StrataJson.Options) }, cancellationToken))!;

    public Task<ExperimentResults?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        ModuleHttp.SendAsync<ExperimentResults>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(ExperimentRoutes.Prefix, ExperimentRoutes.Experiment, id)), cancellationToken, notFoundAsNull: true);

    public async Task<IReadOnlyList<Experiment>> ListAsync(string? model = null, CancellationToken cancellationToken = default) =>
        await ModuleHttp.SendAsync<List<Experiment>>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Get, ExperimentRoutes.Prefix + (model is null ? "" : "?model=" + Uri.EscapeDataString(model))), cancellationToken) ?? [];

    public async Task<Experiment> StopAsync(string id, CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<Experiment>(http, ModuleNames.Registry,
            () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(ExperimentRoutes.Prefix, ExperimentRoutes.Stop, id)), cancellationToken))!;
}
