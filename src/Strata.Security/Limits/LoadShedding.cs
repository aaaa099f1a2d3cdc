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
/// First in the pipeline, so a shed request costs no authentication. An interlocked counter, not a
/// <see cref="ConcurrencyLimiter"/>: that takes a lock on every acquire and release, on the hot path of every request.</summary>
public sealed partial class LoadShedding
{
    private readonly RequestDelegate _next;
    private readonly int _max;
    private int _inFlight;
    private readonly ILogger<LoadShedding> _logger;
    private long _shed;

    public LoadShedding(RequestDelegate next, IOptions<LimitsOptions> options, ILogger<LoadShedding> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _next = next;
        _logger = logger;
        _max = options.Value.MaxConcurrentRequests;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        if (_max == 0 || context.Request.Path.StartsWithSegments("/health"))
        {
            await _next(context);
            return;
        }
        if (Interlocked.Increment(ref _inFlight) > _max)
        {
            Interlocked.Decrement(ref _inFlight);
            LimitMetrics.Shed.Add(1);
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
        try
        {
            await _next(context);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shedding load: {Count} requests refused with 503 so far (Strata:Limits:MaxConcurrentRequests)")]
    private static partial void LogShedding(ILogger logger, long count);
}
