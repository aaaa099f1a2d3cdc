using System.Net;
using System.Text;
using Strata.Contracts.Errors;
using Strata.Contracts.Http;

namespace Strata.Contracts.Tests;

/// <summary>The HTTP clients must throw what the in-process modules throw; this pins the status-to-exception map.
/// (A canned handler is the subject's input here, not a stand-in for a Strata component.)</summary>
public class ModuleHttpTests
{
    private sealed class Canned(HttpStatusCode status, string body, string mediaType = "application/problem+json") : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) });
    }

    private static Task<object?> Send(HttpStatusCode status, string body, bool notFoundAsNull = false)
    {
        using var http = new HttpClient(new Canned(status, body)) { BaseAddress = new Uri("http://127.0.0.1:1/") };
        return ModuleHttp.SendAsync<object>(http, "registry", () => new HttpRequestMessage(HttpMethod.Get, "x"), CancellationToken.None, notFoundAsNull);
    }

    [Fact]
    public async Task SendAsync_400Problem_ThrowsValidationWithField()
    {
        var error = await Assert.ThrowsAsync<InputValidationException>(() =>
            Send(HttpStatusCode.BadRequest, """{"status":400,"detail":"age: must be > 0","field":"age","reason":"must be > 0"}"""));
        Assert.Equal("age", error.Field);
        Assert.Equal("must be > 0", error.Reason);
    }

    [Fact]
    public async Task SendAsync_404_ThrowsNotFoundOrReturnsNull()
    {
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => Send(HttpStatusCode.NotFound, """{"resource":"model","id":"m"}"""));
        Assert.Null(await Send(HttpStatusCode.NotFound, "{}", notFoundAsNull: true));
    }

    [Fact]
    public async Task SendAsync_409_ThrowsConflict() =>
        await Assert.ThrowsAsync<ResourceConflictException>(() => Send(HttpStatusCode.Conflict, """{"detail":"busy"}"""));

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    public async Task SendAsync_ServerError_ThrowsUnavailable(HttpStatusCode status)
    {
        var error = await Assert.ThrowsAsync<DependencyUnavailableException>(() => Send(status, "<html>oops</html>"));
        Assert.Equal("registry", error.Dependency);
    }

    [Fact]
    public async Task SendAsync_NothingListening_ThrowsUnavailable()
    {
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:1/") };
        await Assert.ThrowsAsync<DependencyUnavailableException>(() =>
            ModuleHttp.SendAsync<object>(http, "data", () => new HttpRequestMessage(HttpMethod.Get, "x"), CancellationToken.None));
    }

    [Fact]
    public async Task SendAsync_SuccessWithGarbageBody_ThrowsUnavailable()
    {
        using var http = new HttpClient(new Canned(HttpStatusCode.OK, "not json", "application/json")) { BaseAddress = new Uri("http://127.0.0.1:1/") };
        await Assert.ThrowsAsync<DependencyUnavailableException>(() =>
            ModuleHttp.SendAsync<Dictionary<string, int>>(http, "data", () => new HttpRequestMessage(HttpMethod.Get, "x"), CancellationToken.None));
    }
}
