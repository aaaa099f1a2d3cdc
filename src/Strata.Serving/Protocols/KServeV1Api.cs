using Microsoft.Extensions.DependencyInjection;
using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.ServiceDefaults;
using Strata.Serving.Models;
using Strata.Contracts.Serving;

namespace Strata.Serving.Protocols;

/// <summary>KServe's V1 protocol under <c>/v1/models</c>: list, readiness, <c>:predict</c> and <c>:explain</c> with
/// <c>{"instances": [...]}</c>. An instance is an object of named inputs, an array of one value per input in the model's
/// order (when each input takes one value per row), or, for a model with a single input, that input's row itself.
/// <c>predictions</c> are the rows of the model's primary output (a number, or an array for a row of several).
/// Errors are <c>{"error": ...}</c> (a non-list <c>instances</c> is a 400).</summary>
public static class KServeV1Api
{
    public const int MaxInstances = InferenceRequestReader.MaxRows;

    public static IEndpointRouteBuilder MapKServeV1Api(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup(ServingRoutes.KServeV1Prefix + "/models").InModule(ModuleNames.Serving).WithTags("KServe V1").WithErrorShape(ProtocolErrorShape.Instance);
        v1.MapGet("", (ServedModels models) => Results.Json(new { models = models.Names }));
        v1.MapGet("/{name}", async (string name, ModelHost host, CancellationToken ct) => await host.EnsureServedAsync(name, ct)
            ? Results.Json(new { name, ready = host.Get(name, host.Options.Alias) is not null })
            : ProtocolException.NotFound($"model '{name}' is not served here").ToResult());
        v1.MapPost("/{name}:predict", PredictAsync).Accepts<object>("application/json");
        v1.MapPost("/{name}:explain", ExplainAsync).Accepts<object>("application/json");
        return app;
    }

    private static Task<IResult> PredictAsync(string name, HttpRequest request, ServedModels models, ServingService serving, Traffic.TrafficRouter traffic,
        CancellationToken ct) =>
        ProtocolException.AnswerAsync(async () =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var requestId = RequestIds.Given(request.HttpContext);
            // With a traffic policy the version is chosen as the body is read (a sticky key may be in it).
            var policy = models.PolicyOf(name);
            var model = policy is null ? await models.ResolveAsync(name, null, ct) : null!;
            Traffic.Route route = default;
            var context = new PredictionContext(requestId);
            Tensor[] outputs;
            try
            {
                // A model trained on stored features also takes instances of its entities' keys: its inputs are fetched online.
                var (entities, inputs) = await RequestBody.ReadAllAsync(request, body =>
                {
                    if (policy is not null)
                    {
                        route = policy.Choose(request.Headers, body);
                        context = PredictionContext.Of(request.HttpContext, requestId, policy, route);
                        model = route.Model;
                    }
                    return FeatureAwarePredictor.EntityInstances(body, model) is { } keys ? (keys, null) : ((List<Tensor>?)null, ReadInstances(body, model));
                }, ct, maxBytes: ServingOptions.MaxRequestBytesOf(request));
                IReadOnlyList<Tensor> given = entities ?? inputs!;
                if (entities is not null)
                {
                    inputs = [.. (await request.HttpContext.RequestServices.GetRequiredService<FeatureAwarePredictor>().EntityInputsAsync(model, entities, ct))!];
                }
                outputs = await serving.InferAsync(model, model.Bind(inputs!), [model.PrimaryOutput], started, request.HttpContext.TraceIdentifier, context);
                if (route.Shadow is { } shadow)
                {
                    traffic.MirrorInfer(policy!, model, shadow, given, outputs, started);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException && route.Model is { } routed && ServingApi.Reported(serving, routed, context, e, started))
            {
                throw; // never reached: the filter reports and declines
            }
            request.HttpContext.Response.Headers[OpenInferenceApi.VersionHeader] = model.VersionText;
            return JsonResponse.Write(request.HttpContext.Response, (outputs[0], model.VersionText), static (writer, r) =>
            {
                writer.WriteStartObject();
                writer.WriteStartArray("predictions");
                for (var row = 0L; row < r.Item1.Rows; row++)
                {
                    JsonTensors.WriteRow(writer, r.Item1, row);
                }
                writer.WriteEndArray();
                writer.WriteString("model_version", r.VersionText);
                writer.WriteEndObject();
            });
        });

    /// <summary><c>:explain</c>: per instance, the prediction, the raw score and each feature's value and contribution
    /// (largest first); a model without an explainer is a 400.</summary>
    private static Task<IResult> ExplainAsync(string name, HttpRequest request, ServedModels models, CancellationToken ct) =>
        ProtocolException.AnswerAsync(async () =>
        {
            var model = await models.ResolveAsync(name, null, ct);
            if (!model.CanExplain)
            {
                throw ProtocolException.BadRequest($"model '{model.Name}' v{model.VersionText} ({model.Platform}) has no explainer; tree and linear ML.NET models have");
            }
            var inputs = await RequestBody.ReadAllAsync(request, body => ReadInstances(body, model), ct, maxBytes: ServingOptions.MaxRequestBytesOf(request));
            var explanations = model.Explain(model.Bind(inputs));
            request.HttpContext.Response.Headers[OpenInferenceApi.VersionHeader] = model.VersionText;
            return Results.Json(new { explanations, model_version = model.VersionText });
        });

    /// <summary>The instances as one tensor per model input, rows stacked in order.</summary>
    public static List<Tensor> ReadInstances(ReadOnlySequence<byte> body, ServableModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw ProtocolException.BadRequest($"request body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine})");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("instances", out var instances))
            {
                throw ProtocolException.BadRequest("request body must be an object with 'instances'");
            }
            if (instances.ValueKind != JsonValueKind.Array)
            {
                throw ProtocolException.BadRequest("'instances' must be a list");
            }
            var count = instances.GetArrayLength();
            if (count is 0 or > MaxInstances)
            {
                throw ProtocolException.BadRequest($"'instances' must hold between 1 and {MaxInstances} instances");
            }
            var specs = model.Inputs;
            var perRow = specs.Select(s => s.RowElements
                ?? throw ProtocolException.BadRequest($"input '{s.Name}' has a variable size beyond the batch; use the V2 protocol for it")).ToArray();
            var positional = specs.Count > 1 && perRow.All(n => n == 1);
            var leaves = specs.Select(_ => new List<JsonElement>()).ToArray();
            var r = 0;
            foreach (var instance in instances.EnumerateArray())
            {
                for (var i = 0; i < specs.Count; i++)
                {
                    var value = instance.ValueKind switch
                    {
                        JsonValueKind.Object => instance.TryGetProperty(specs[i].Name, out var v) ? v
                            : throw ProtocolException.BadRequest($"instance {r} has no '{specs[i].Name}'"),
                        JsonValueKind.Array when positional && instance.GetArrayLength() == specs.Count => instance[i],
                        _ when specs.Count == 1 => instance,
                        _ => throw ProtocolException.BadRequest(
                            $"instance {r} must be an object of named inputs or an array of {specs.Count} values ({string.Join(", ", specs.Select(x => x.Name))})"),
                    };
                    var before = leaves[i].Count;
                    JsonTensors.Flatten(value, leaves[i], specs[i].Name);
                    if (leaves[i].Count - before != perRow[i])
                    {
                        throw ProtocolException.BadRequest(string.Create(CultureInfo.InvariantCulture,
                            $"instance {r}: '{specs[i].Name}' must have {perRow[i]} value(s), got {leaves[i].Count - before}"));
                    }
                }
                r++;
            }
            return [.. specs.Select((spec, i) =>
            {
                var shape = spec.Shape.Count == 0 ? [] : spec.Shape.Select((d, k) => k == 0 ? count : d).ToArray();
                return new Tensor(spec.Name, spec.Datatype, shape, JsonTensors.ToArray(leaves[i], spec.Datatype, spec.Name));
            })];
        }
    }
}
