using System.ComponentModel.DataAnnotations;
using Strata.Contracts.Registry;

namespace Strata.Serving;

/// <summary>Serving settings (<c>Strata:Serving:*</c>): which models are served by which aliases, which one
/// <c>/predict</c> answers with, how often aliases are re-read (for changes no event brings), micro-batching and the
/// prediction log.</summary>
public sealed class ServingOptions : IValidatableObject
{
    public const string Section = "Strata:Serving";

    /// <summary>The largest scoring request body (<c>/predict</c>, V1 predict and explain, V2 infer): 16 MiB by default,
    /// about 500,000 rows of two features in V2 JSON. Reading stops there with 413 in the route's shape (the rest of a
    /// slightly larger body is drained by Kestrel, so the client reads the answer; an endpoint-level Kestrel limit would
    /// refuse at the Content-Length and reset a client still uploading).</summary>
    [Range(1024, 1L << 30)]
    public long MaxRequestBytes { get; set; } = 16L << 20;

    /// <summary>The most elements one inference may return across its outputs (4,194,304 by default: 16 MiB of fp32). A
    /// graph can make a huge tensor from a tiny input (a 73-byte ConstantOfShape graph answered a 100 MB body, issue 24):
    /// beyond the cap the request is refused with a 400 naming the output, and nothing is serialized.</summary>
    [Range(1, 1L << 31)]
    public long MaxOutputElements { get; set; } = 4L << 20;

    /// <summary>The scoring body limit of the process serving <paramref name="request"/>.</summary>
    public static long MaxRequestBytesOf(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Microsoft.Extensions.Options.IOptions<ServingOptions>>(request.HttpContext.RequestServices).Value.MaxRequestBytes;
    }

    /// <summary>The model <c>/predict</c> serves (always served).</summary>
    [Required, RegularExpression(@"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")]
    public string Model { get; set; } = "seed";

    /// <summary>The alias a request without a version is answered by.</summary>
    [Required, RegularExpression(@"^[\w-]+$")]
    public string Alias { get; set; } = "champion";

    /// <summary>Further registered models served beside <see cref="Model"/> (loaded at start).</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>Whether every other registered model is served too: its served aliases are loaded when it is first asked
    /// for (<c>/v2/models/{name}</c>, <c>/v1/models/{name}</c>) or when one of them moves, and kept current from then on.
    /// False: only <see cref="Model"/> and <see cref="Models"/>.</summary>
    public bool ServeEveryModel { get; set; } = true;

    /// <summary>The aliases loaded and kept current for every served model (<see cref="Alias"/> is always one); empty means
    /// <see cref="Alias"/> and <c>challenger</c>.</summary>
    public List<string> Aliases { get; set; } = [];

    /// <summary>Versions asked for by number (not by an alias) kept loaded per model, least recently used evicted.</summary>
    [Range(0, 64)]
    public int MaxPinnedVersions { get; set; } = 2;

    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest number of rows micro-batching scores at once; 1 turns micro-batching off.</summary>
    [Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = 1;

    /// <summary>Longest a request waits for others to join its batch (from its arrival to the batch being scored).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan MaxBatchLatency { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Share of HTTP predictions published as <c>prediction.made</c> (0 turns the log off, 1 logs every one) when
    /// no traffic policy routed them: a routed prediction is always logged (rollouts and experiments join outcomes to it). The
    /// default logs one in a hundred: each record is an event stored by the bus and the audit log, and at full load on
    /// 2 cores one in ten cost the single-row infer tail most of a millisecond (wrk, 32 connections: p99 2.6-2.8 ms and
    /// 60k requests/s at one in ten; 1.3-1.5 ms and 65-68k at one in a hundred, as with the log off; logging every one
    /// cost about 40% of the throughput). Answers to <c>prediction.requested</c> events are always published.</summary>
    [Range(0.0, 1.0)]
    public double PredictionLogSampleRate { get; set; } = 0.01;

    /// <summary>How long the prediction log waits after a record for others to join its batch (Kafka's <c>linger.ms</c>):
    /// one append and one audit commit for many records instead of one each; 0 publishes whatever has queued at once.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan PredictionLogLinger { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Records waiting to be published; beyond this they are dropped (and counted), never waited for.</summary>
    [Range(1, 1_000_000)]
    public int PredictionLogCapacity { get; set; } = 10_000;

    /// <summary>Every served model: <see cref="Model"/> first, then <see cref="Models"/>, without repeats.</summary>
    public IReadOnlyList<string> ServedModels => [.. new[] { Model }.Concat(Models).Distinct(StringComparer.Ordinal)];

    /// <summary>Every alias kept loaded: <see cref="Alias"/> first.</summary>
    public IReadOnlyList<string> ServedAliases => [.. new[] { Alias }.Concat(Aliases.Count == 0 ? ["challenger"] : Aliases).Distinct(StringComparer.Ordinal)];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var model in Models.Where(m => !AliasName.IsModelName(m)))
        {
            yield return new ValidationResult($"'{model}' is not a model name", [nameof(Models)]);
        }
        foreach (var alias in Aliases.Where(a => !AliasName.IsWellFormed(a)))
        {
            yield return new ValidationResult($"'{alias}' is not an alias", [nameof(Aliases)]);
        }
    }
}
