using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;

namespace Strata.Gateway.Resilience;

/// <summary>The POST routes of each module that change nothing (<c>ModuleDescriptor.IdempotentPosts</c>): the gateway
/// keeps their body (up to <see cref="MaxReplayBytes"/>) so it can send them to another replica after a transport failure.</summary>
public sealed class IdempotentPosts(IReadOnlyDictionary<string, IReadOnlyList<string>> byModule)
{
    /// <summary>A body declared larger than this is streamed as it comes and the request is not retried. A chunked body
    /// (no Content-Length: .NET's <c>PostAsJsonAsync</c> sends these) is kept whatever its size, up to the server's
    /// request size limit: in memory up to 64 KB, in a temporary file beyond.</summary>
    public const int MaxReplayBytes = 1 << 20;

    private readonly Dictionary<string, TemplateMatcher[]> _matchers = byModule.Where(p => p.Value.Count > 0).ToDictionary(
        p => p.Key, p => p.Value.Select(t => new TemplateMatcher(TemplateParser.Parse(t.TrimStart('/')), new RouteValueDictionary())).ToArray(),
        StringComparer.Ordinal);

    /// <summary>Whether <paramref name="request"/> is a POST to one of <paramref name="module"/>'s idempotent routes with a
    /// body small enough to keep.</summary>
    public bool Replayable(string module, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!HttpMethods.IsPost(request.Method) || request.ContentLength > MaxReplayBytes || !_matchers.TryGetValue(module, out var matchers))
        {
            return false;
        }
        foreach (var matcher in matchers)
        {
            if (matcher.TryMatch(request.Path, new RouteValueDictionary()))
            {
                return true;
            }
        }
        return false;
    }
}
