using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Strata.Dashboard;

/// <summary>The dashboard's scripts and styles, embedded in the assembly (uPlot vendored from npm, the dashboard's own
/// CSS and script): served with a strong ETag and cached for a day; nothing comes from a CDN.</summary>
public sealed class DashboardAssets
{
    private readonly Dictionary<string, (byte[] Content, string Type, string ETag)> _files = new(StringComparer.Ordinal);

    public DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("assets/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var name = resource["assets/".Length..];
            var type = Path.GetExtension(name) switch
            {
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "text/plain; charset=utf-8",
            };
            _files[name] = (content, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
        }
    }

    public IReadOnlyCollection<string> Names => _files.Keys;

    /// <summary>The URL of an asset, with its content hash so a new version is fetched at once.</summary>
    public string Url(string name) => $"{DashboardRoutes.Assets}/{name}?v={_files[name].ETag.Trim('"')}";

    public IResult Serve(HttpContext context, string file)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_files.TryGetValue(file, out var asset))
        {
            return TypedResults.Problem(title: "Not found", detail: $"no dashboard asset '{file}'", statusCode: StatusCodes.Status404NotFound,
                extensions: new Dictionary<string, object?> { ["field"] = "file" });
        }
        context.Response.Headers.CacheControl = "public, max-age=86400";
        context.Response.Headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }
        return TypedResults.Bytes(asset.Content, asset.Type, entityTag: new EntityTagHeaderValue(asset.ETag));
    }
}
