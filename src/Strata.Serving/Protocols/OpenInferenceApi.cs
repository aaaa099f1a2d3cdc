using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.ServiceDefaults;
using Strata.Serving.Models;

namespace Strata.Serving.Protocols;

/// <summary>The Open Inference Protocol (KServe V2) REST endpoints under <c>/v2</c>. Errors are <c>{"error": ...}</c>;
/// every model response names the version that answered (body and <c>X-Model-Version</c>).</summary>
public static class OpenInferenceApi
{
    public const string VersionHeader = "X-Model-Version";

    public static IEndpointRouteBuilder MapOpenInferenceApi(this IEndpointRouteBuilder app)
    {
        var v2 = app.MapGroup("/v2").InModule(ModuleNames.Serving).WithTags("Open Inference Protocol (V2)");
        v2.MapGet("", () => Results.Json(new ServerMetadata("strata", ServerVersion, [])));
        v2.MapGet("/health/live", () => Results.Json(new { live = true }));
        v2.MapGet("/health/ready", (ModelHost host) => host.Current is not null
            ? Results.Json(new { ready = true })
            // The protocol signals "not ready" with a 4xx status.
            : Results.Json(new { ready = false, error = "no model version loaded yet" }, statusCode: StatusCodes.Status400BadRequest));
        foreach (var prefix in new[] { "/models/{name}", "/models/{name}/versions/{version}" })
        {
            v2.MapGet(prefix, (string name, string? version, ServedModels models, HttpResponse response) =>
                Answer(() => Metadata(models.Resolve(name, version), response)));
            v2.MapGet(prefix + "/ready", (string name, string? version, ServedModels models, HttpResponse response) =>
                Answer(() =>
                {
                    var model = models.Resolve(name, version);
                    response.Headers[VersionHeader] = model.VersionText;
                    return Results.Json(new { name, ready = true });
                }));
            v2.MapPost(prefix + "/infer", (string name, string? version, HttpRequest request, ServedModels models, ServingService serving, CancellationToken ct) =>
                InferAsync(name, version, request, models, serving, ct))
                .Accepts<object>("application/json");
        }
        return app;
    }

    private static string ServerVersion { get; } =
        typeof(OpenInferenceApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static IResult Metadata(LoadedModel model, HttpResponse response)
    {
        response.Headers[VersionHeader] = model.VersionText;
        return Results.Json(new ModelMetadata(model.Version.Model, [model.VersionText], "mlnet", ModelSignature.Inputs(model), ModelSignature.Outputs));
    }

    private static Task<IResult> InferAsync(string name, string? version, HttpRequest request, ServedModels models, ServingService serving, CancellationToken ct) =>
        ProtocolException.AnswerAsync(async () =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var model = models.Resolve(name, version);
            var batch = await RequestBody.ReadAllAsync(request, body => InferenceRequestReader.Read(body, model.View.Inputs), ct,
                maxBytes: 16L << 20);
            var scores = BatchScorer.Score(serving, model, batch.Rows, started, request.HttpContext.TraceIdentifier);
            request.HttpContext.Response.Headers[VersionHeader] = model.VersionText;
            return Results.Json(new InferenceResponse(model.Version.Model, model.VersionText, batch.Id,
                [.. batch.Outputs.Select(o => new OutputTensor(o, ModelSignature.Datatype, [scores.Length], scores))]));
        });

    private static Task<IResult> Answer(Func<IResult> handler) => ProtocolException.AnswerAsync(() => Task.FromResult(handler()));

    /// <summary><c>GET /v2</c>.</summary>
    public sealed record ServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);

    /// <summary><c>GET /v2/models/{name}</c>.</summary>
    public sealed record ModelMetadata(string Name, IReadOnlyList<string> Versions, string Platform,
        IReadOnlyList<TensorMetadata> Inputs, IReadOnlyList<TensorMetadata> Outputs);

    /// <summary>One output tensor of an infer response.</summary>
    public sealed record OutputTensor(string Name, string Datatype, IReadOnlyList<long> Shape, double[] Data);

    /// <summary>The infer response.</summary>
    public sealed record InferenceResponse(string ModelName, string ModelVersion, string? Id, IReadOnlyList<OutputTensor> Outputs);
}
