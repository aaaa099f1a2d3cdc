using System.Net.Http.Json;
using Strata.Contracts.Http;

namespace Strata.Contracts.Serving;

/// <summary><see cref="IServingClient"/> over the Serving module's HTTP API.</summary>
public sealed class HttpServingClient(HttpClient http) : IServingClient
{
    public async Task<PredictionResult> PredictAsync(IReadOnlyDictionary<string, double> inputs, CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<PredictionResult>(http, ModuleNames.Serving,
            () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of("", ServingRoutes.Predict)) { Content = JsonContent.Create(inputs, options: StrataJson.Options) },
            cancellationToken))!;

    public async Task<ServingStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<ServingStatus>(http, ModuleNames.Serving,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(ServingRoutes.Prefix, ServingRoutes.Status)), cancellationToken))!;

    public async Task<TrafficStatus> GetTrafficAsync(string model, CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<TrafficStatus>(http, ModuleNames.Serving,
            () => new HttpRequestMessage(HttpMethod.Get, RoutePath.Of(ServingRoutes.Prefix, ServingRoutes.Traffic, model)), cancellationToken))!;

    public async Task<FeedbackAccepted> RecordFeedbackAsync(IReadOnlyList<PredictionFeedback> feedback, CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<FeedbackAccepted>(http, ModuleNames.Serving,
            () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(ServingRoutes.Prefix, ServingRoutes.Feedback))
            { Content = System.Net.Http.Json.JsonContent.Create(feedback, options: StrataJson.Options) }, cancellationToken))!;
}
