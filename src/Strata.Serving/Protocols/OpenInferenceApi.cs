using Microsoft.Extensions.DependencyInjection;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.ServiceDefaults;
using Strata.Serving.Models;
using Strata.Contracts.Serving;

namespace Strata.Serving.Protocols;

/// <summary>The Open Inference Protocol (KServe V2) REST endpoints under <c>/v2</c>. Errors are <c>{"error": ...}</c>;
/// every model response names the version that answered (body and <c>X-Model-Version</c>).</summary>
public static class OpenInferenceApi
{
    public const string VersionHeader = "X-Model-Version";

    public static IEndpointRouteBuilder MapOpenInferenceApi(this IEndpointRouteBuilder app)
    {
        var v2 = app.MapGroup(ServingRoutes.OpenInferencePrefix).InModule(ModuleNames.Serving).WithTags("Open Inference Protocol (V2)").WithErrorShape(ProtocolErrorShape.Instance);
        v2.MapGet("", () => Results.Json(new ServerMetadata("strata", ServerVersion, [])));
        v2.MapGet("/health/live", () => Results.Json(new { live = true }));
        v2.MapGet("/health/ready", (ModelHost host) => host.Names.All(n => host.Get(n, host.Options.Alias) is not null)
            ? Results.Json(new { ready = true })
            // The protocol signals "not ready" with a 4xx status.
            : Results.Json(new { ready = false, error = "not every served model has a version loaded yet" }, statusCode: StatusCodes.Status400BadRequest));
        foreach (var prefix in new[] { "/models/{name}", "/models/{name}/versions/{version}" })
        {
            v2.MapGet(prefix, (string name, string? version, ServedModels models, ModelHost host, HttpResponse response, CancellationToken ct) =>
                ProtocolException.AnswerAsync(async () => Metadata(await models.ResolveAsync(name, version, ct), version is null ? host : null, response)));
            v2.MapGet(prefix + "/ready", (string name, string? version, ServedModels models, HttpResponse response, CancellationToken ct) =>
                ProtocolException.AnswerAsync(async () =>
                {
                    var model = await models.ResolveAsync(name, version, ct);
                    response.Headers[VersionHeader] = model.VersionText;
                    return Results.Json(new { name, ready = true });
                }));
            v2.MapPost(prefix + "/infer", (string name, string? version, HttpRequest request, ServedModels models, ServingService serving, Traffic.TrafficRouter traffic,
                CancellationToken ct) => InferAsync(name, version, request, models, serving, traffic, ct))
                .Accepts<object>("application/json");
        }
        // What routing matched nothing else for answers in the protocol's shape too, not as a problem document: an infer
        // call whose body is not JSON (the binary tensor extension is not supported), or an unknown path.
        v2.Map("/{**path}", (HttpRequest request) => HttpMethods.IsPost(request.Method) && request.Path.Value?.EndsWith("/infer", StringComparison.Ordinal) == true
                && !request.HasJsonContentType()
                ? Results.Json(new ProtocolException.ErrorBody($"Content-Type must be application/json, not '{request.ContentType}' (the binary tensor extension is not supported)"),
                    statusCode: StatusCodes.Status415UnsupportedMediaType)
                : Results.Json(new ProtocolException.ErrorBody($"no endpoint {request.Method} {request.Path}"), statusCode: StatusCodes.Status404NotFound))
            .ExcludeFromDescription();
        return app;
    }

    private static string ServerVersion { get; } =
        typeof(OpenInferenceApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Model metadata; for the unversioned address <c>versions</c> lists every version loaded now.</summary>
    private static IResult Metadata(ServableModel model, ModelHost? host, HttpResponse response)
    {
        response.Headers[VersionHeader] = model.VersionText;
        IReadOnlyList<string> versions = host is null ? [model.VersionText] : [.. host.Loaded(model.Name).Select(m => m.VersionText)];
        return Results.Json(new ModelMetadata(model.Name, versions, model.Platform, model.Inputs, model.Outputs));
    }

    private static Task<IResult> InferAsync(string name, string? version, HttpRequest request, ServedModels models, ServingService serving,
        Traffic.TrafficRouter traffic, CancellationToken ct) =>
        ProtocolException.AnswerAsync(async () =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var requestId = RequestIds.Given(request.HttpContext);
            // An explicit version is never routed; the model's address alone follows its traffic policy, chosen as the
            // body is read (a sticky key may be in it).
            var policy = version is null ? models.PolicyOf(name) : null;
            var model = policy is null ? await models.ResolveAsync(name, version, ct) : null!;
            Traffic.Route route = default;
            var context = new PredictionContext(requestId);
            InferenceRequest infer;
            Tensor[] outputs;
            try
            {
                infer = await RequestBody.ReadAllAsync(request, body =>
                {
                    if (policy is not null)
                    {
                        route = policy.Choose(request.Headers, body);
                        context = PredictionContext.Of(request.HttpContext, requestId, policy, route);
                        model = route.Model;
                    }
                    return InferenceRequestReader.Read(body);
                }, ct, maxBytes: ServingOptions.MaxRequestBytesOf(request));
                foreach (var output in infer.Outputs.Where(o => !model.Outputs.Any(m => m.Name == o)))
                {
                    throw ProtocolException.BadRequest($"model '{model.Name}' has no output '{output}' (outputs: {string.Join(", ", model.Outputs.Select(o => o.Name))})");
                }
                // A model trained on stored features also takes its entities' keys: its inputs are then fetched online.
                var inputs = await request.HttpContext.RequestServices.GetRequiredService<FeatureAwarePredictor>().EntityInputsAsync(model, infer.Inputs, ct)
                    ?? infer.Inputs;
                outputs = await serving.InferAsync(model, model.Bind(inputs), infer.Outputs, started, request.HttpContext.TraceIdentifier, context);
                if (route.Shadow is { } shadow)
                {
                    traffic.MirrorInfer(policy!, model, shadow, infer.Inputs, outputs, started);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException && route.Model is { } routed && ServingApi.Reported(serving, routed, context, e, started))
            {
                throw; // never reached: the filter reports and declines
            }
            request.HttpContext.Response.Headers[VersionHeader] = model.VersionText;
            return JsonResponse.Write(request.HttpContext.Response, (model, infer.Id, outputs), static (writer, r) => Response(writer, r.model, r.Id, r.outputs));
        });

    /// <summary>The infer response: <c>model_name</c>, <c>model_version</c>, <c>id</c> when the request had one, and each
    /// output's <c>name</c>, <c>datatype</c>, <c>shape</c> and flat <c>data</c>.</summary>
    private static void Response(Utf8JsonWriter writer, ServableModel model, string? id, Tensor[] outputs)
    {
        writer.WriteStartObject();
        writer.WriteString("model_name", model.Name);
        writer.WriteString("model_version", model.VersionText);
        if (id is not null)
        {
            writer.WriteString("id", id);
        }
        writer.WriteStartArray("outputs");
        foreach (var output in outputs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", output.Name);
            writer.WriteString("datatype", output.Datatype);
            writer.WriteStartArray("shape");
            foreach (var d in output.Shape)
            {
                writer.WriteNumberValue(d);
            }
            writer.WriteEndArray();
            writer.WritePropertyName("data");
            JsonTensors.WriteData(writer, output.Data);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary><c>GET /v2</c>.</summary>
    public sealed record ServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);

    /// <summary><c>GET /v2/models/{name}</c>.</summary>
    public sealed record ModelMetadata(string Name, IReadOnlyList<string> Versions, string Platform,
        IReadOnlyList<TensorMetadata> Inputs, IReadOnlyList<TensorMetadata> Outputs);
}
