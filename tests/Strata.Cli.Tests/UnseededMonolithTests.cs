using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Strata.Cli.Tests;

/// <summary>Before any model exists: live but not ready, and /predict is a 503 problem, not a 500.</summary>
public sealed class UnseededMonolithTests(UnseededMonolithFixture fixture) : IClassFixture<UnseededMonolithFixture>
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Health_NoModelYet_LiveButNotReady()
    {
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Predict_NoModelYet_Is503Problem()
    {
        using var response = await Http.PostAsJsonAsync(new Uri("/predict", UriKind.Relative), new { age = 30, income = 1000 });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no version of seed@champion", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_NoDatasetYet_Is404ProblemNamingTheDataset()
    {
        using var response = await Http.PostAsync(new Uri("/train", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("dataset", problem.GetProperty("resource").GetString());
        Assert.Equal("seed", problem.GetProperty("id").GetString());
    }
}
