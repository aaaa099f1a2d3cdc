using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.ServiceDefaults;
using Strata.Serving.Models;

namespace Strata.Serving.Protocols;

/// <summary>KServe's V1 protocol under <c>/v1/models</c>: list, readiness and <c>:predict</c> with
/// <c>{"instances": [...]}</c>, each instance an object of named inputs or an array in the model's input order.
/// Errors are <c>{"error": ...}</c> (a non-list <c>instances</c> is a 400).</summary>
public static class KServeV1Api
{
    public const int MaxInstances = InferenceRequestReader.MaxRows;

    public static IEndpointRouteBuilder MapKServeV1Api(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1/models").InModule(ModuleNames.Serving).WithTags("KServe V1");
        v1.MapGet("", (ServedModels models) => Results.Json(new { models = models.Names }));
        v1.MapGet("/{name}", (string name, ServedModels models, ModelHost host) => models.IsKnown(name)
            ? Results.Json(new { name, ready = host.Current is not null })
            : ProtocolException.NotFound($"model '{name}' is not served here").ToResult());
        v1.MapPost("/{name}:predict", PredictAsync).Accepts<object>("application/json");
        return app;
    }

    private static Task<IResult> PredictAsync(string name, HttpRequest request, ServedModels models, ServingService serving, CancellationToken ct) =>
        ProtocolException.AnswerAsync(async () =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var model = models.Resolve(name);
            var rows = await RequestBody.ReadAllAsync(request, body => ReadInstances(body, model), ct, maxBytes: 16L << 20);
            var predictions = BatchScorer.Score(serving, model, rows, started, request.HttpContext.TraceIdentifier);
            request.HttpContext.Response.Headers[OpenInferenceApi.VersionHeader] = model.VersionText;
            return Results.Json(new { predictions, model_version = model.VersionText });
        });

    private static List<double[]> ReadInstances(System.Buffers.ReadOnlySequence<byte> body, LoadedModel model)
    {
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
            if (instances.GetArrayLength() is 0 or > MaxInstances)
            {
                throw ProtocolException.BadRequest($"'instances' must hold between 1 and {MaxInstances} instances");
            }
            var inputs = model.View.Inputs;
            var rows = new List<double[]>();
            foreach (var (instance, r) in instances.EnumerateArray().Select((x, i) => (x, i)))
            {
                var row = new double[inputs.Count];
                for (var i = 0; i < inputs.Count; i++)
                {
                    var value = instance.ValueKind switch
                    {
                        JsonValueKind.Object => instance.TryGetProperty(inputs[i].Name, out var v) ? v
                            : throw ProtocolException.BadRequest($"instance {r} has no '{inputs[i].Name}'"),
                        JsonValueKind.Array when instance.GetArrayLength() == inputs.Count => instance[i],
                        _ => throw ProtocolException.BadRequest(
                            $"instance {r} must be an object of named inputs or an array of {inputs.Count} values ({string.Join(", ", inputs.Select(x => x.Name))})"),
                    };
                    row[i] = value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && double.IsFinite(d)
                        ? d
                        : throw ProtocolException.BadRequest($"instance {r}: '{inputs[i].Name}' must be a finite number, got {value.GetRawText()}");
                }
                rows.Add(row);
            }
            return rows;
        }
    }
}
