using System.Net.Http.Json;
using Strata.Contracts.Http;

namespace Strata.Contracts.Training;

/// <summary><see cref="ITrainingClient"/> over the Training module's HTTP API.</summary>
public sealed class HttpTrainingClient(HttpClient http) : ITrainingClient
{
    public async Task<TrainingResult> TrainAsync(TrainingRequest request, CancellationToken cancellationToken = default) =>
        (await ModuleHttp.SendAsync<TrainingResult>(http, ModuleNames.Training,
            () => new HttpRequestMessage(HttpMethod.Post, RoutePath.Of(TrainingRoutes.Prefix, TrainingRoutes.Train)) { Content = JsonContent.Create(request, options: StrataJson.Options) },
            cancellationToken))!;
}
