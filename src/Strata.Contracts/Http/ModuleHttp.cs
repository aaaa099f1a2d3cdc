using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Strata.Contracts.Errors;

namespace Strata.Contracts.Http;

/// <summary>The HTTP side of every client interface: sends a request and maps the answer back onto the same
/// exceptions the in-process implementation throws, so callers cannot tell which topology they run in.</summary>
public static class ModuleHttp
{
    /// <summary>Sends and reads a JSON body of <typeparamref name="T"/>; 404 yields default when <paramref name="notFoundAsNull"/>.</summary>
    public static async Task<T?> SendAsync<T>(HttpClient http, string dependency, Func<HttpRequestMessage> request,
        CancellationToken cancellationToken, bool notFoundAsNull = false)
    {
        using var response = await SendRawAsync(http, dependency, request, cancellationToken);
        if (notFoundAsNull && response.StatusCode == HttpStatusCode.NotFound)
        {
            return default;
        }
        await EnsureSuccessAsync(response, dependency, cancellationToken);
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(StrataJson.Options, cancellationToken);
        }
        catch (JsonException e)
        {
            throw new DependencyUnavailableException(dependency, "answered with a body that is not the expected JSON", e);
        }
    }

    /// <summary>Sends and returns the response; transport failures, timeouts and open circuits become
    /// <see cref="DependencyUnavailableException"/>. The caller disposes the response.</summary>
    public static async Task<HttpResponseMessage> SendRawAsync(HttpClient http, string dependency, Func<HttpRequestMessage> request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            using var message = request();
            return await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsTransient(e))
        {
            throw new DependencyUnavailableException(dependency, e.Message, e);
        }
    }

    /// <summary>Throws the domain exception matching a failed response (400 validation, 404, 409, else unavailable).</summary>
    public static async Task EnsureSuccessAsync(HttpResponseMessage response, string dependency, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var problem = await ReadProblemAsync(response, cancellationToken);
        string? Ext(string name) => problem.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var detail = Ext("detail") ?? Ext("error") ?? Ext("message") ?? response.ReasonPhrase ?? "request failed";
        throw response.StatusCode switch
        {
            HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity or HttpStatusCode.UnsupportedMediaType or HttpStatusCode.RequestEntityTooLarge
                => new InputValidationException(Ext("field") ?? "body", Ext("reason") ?? detail),
            HttpStatusCode.NotFound => new ResourceNotFoundException(Ext("resource") ?? "resource", Ext("id") ?? detail),
            HttpStatusCode.Conflict => new ResourceConflictException(detail),
            HttpStatusCode.Unauthorized => new AccessDeniedException(false, $"{dependency}: {detail}"),
            HttpStatusCode.Forbidden => new AccessDeniedException(true, $"{dependency}: {detail}"),
            _ => new DependencyUnavailableException(dependency, $"answered {(int)response.StatusCode}: {detail}"),
        };
    }

    private static async Task<Dictionary<string, JsonElement>> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<Dictionary<string, JsonElement>>(cancellationToken) ?? [];
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            return [];
        }
    }

    private static bool IsTransient(Exception e) =>
        e is HttpRequestException or TaskCanceledException or TimeoutException or IOException
        || (e.GetType().Namespace?.StartsWith("Polly", StringComparison.Ordinal) ?? false);
}
