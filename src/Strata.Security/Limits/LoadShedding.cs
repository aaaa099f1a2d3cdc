using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts.Errors;
using Strata.ServiceDefaults;

namespace Strata.Security.Limits;

/// <summary>Sheds load before the process is overloaded: at most <see cref="LimitsOptions.MaxConcurrentRequests"/>
/// requests are handled at once, one more is answered 503 with <c>Retry-After: 1</c> at once (no queue: a queued request
/// waits while its client times out). Health endpoints are never shed: an orchestrator must see a busy process alive.
/// First in the pipeline, so a shed request costs no authentication.</summary>
public sealed partial class LoadShedding : IDisposable
{
    private readonly RequestDelegate _next;
    private readonly ConcurrencyLimiter? _limiter;
    private readonly ILogger<LoadShedding> _logger;
    private long _shed;

    public LoadShedding(RequestDelegate next, IOptions<LimitsOptions> options, ILogger<LoadShedding> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _next = next;
        _logger = logger;
        var max = options.Value.MaxConcurrentRequests;
        _limiter = max > 0 ? new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = max, QueueLimit = 0 }) : null;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        if (_limiter is null || context.Request.Path.StartsWithSegments("/health"))
        {
            await _next(context);
            return;
        }
        using var lease = _limiter.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            if (Interlocked.Increment(ref _shed) % 1000 == 1)
            {
                LogShedding(_logger, Interlocked.Read(ref _shed));
            }
            context.Response.Headers.RetryAfter = "1";
            var endpoint = context.GetEndpoint();
            var overloaded = new DependencyUnavailableException("strata", "overloaded: too many requests in flight; retry after 1 s");
            var result = endpoint?.Metadata.GetMetadata<IErrorShape>()?.Translate(overloaded, context)
                ?? TypedResults.Problem(title: "Overloaded", detail: overloaded.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
            await result.ExecuteAsync(context);
            return;
        }
        await _next(context);
    }

    public void Dispose() => _limiter?.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shedding load: {Count} requests refused with 503 so far (Strata:Limits:MaxConcurrentRequests)")]
    private static partial void LogShedding(ILogger logger, long count);
}
