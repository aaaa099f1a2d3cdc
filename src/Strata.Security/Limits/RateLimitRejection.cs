using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Strata.Contracts.Errors;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Security;

namespace Strata.Security.Limits;

/// <summary>A request over its principal's rate: 429 with <c>Retry-After</c> (whole seconds, at least 1), in the
/// endpoint's error shape, naming the route group.</summary>
public static class RateLimitRejection
{
    public static async ValueTask WriteAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var endpoint = context.GetEndpoint();
        var group = endpoint?.Metadata.GetMetadata<AccessRule>() is { } rule ? RouteGroups.Of(rule.Required) : null;
        var limited = new RateLimitedException($"rate limit of the {group} routes for this principal exceeded; retry after {seconds} s", TimeSpan.FromSeconds(seconds));
        var result = endpoint?.Metadata.GetMetadata<IErrorShape>()?.Translate(limited, context)
            ?? TypedResults.Problem(title: "Too many requests", detail: limited.Message, statusCode: StatusCodes.Status429TooManyRequests);
        await result.ExecuteAsync(context);
    }
}
