using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Strata.Contracts.Errors;
using Strata.ServiceDefaults;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace Strata.Gateway.Resilience;

/// <summary>The gateway's proxy pipeline step before load balancing: a per-module limit on requests in flight that
/// sheds (503, <c>Retry-After: 1</c>, in the route's error shape) instead of queueing without bound, and retries on
/// another replica for a request that failed in transport before its answer began, within the module's retry budget.
/// Only what is safe is retried: any request whose connection was never made (it did not reach the module; Envoy's
/// <c>connect-failure</c>), and idempotent requests on any transport failure or timeout before the answer began: GET,
/// HEAD, OPTIONS and DELETE without a body, and the POSTs a module declares idempotent (scoring), whose body is kept for
/// the purpose; such a request answered 503 (a replica restarting, not ready yet) is sent to another replica too, as
/// Envoy's <c>retriable-status-codes</c>. A request that reached a module and may have changed something is never sent twice.</summary>
public sealed partial class ProxyResilience(RequestDelegate next, IOptions<GatewayOptions> options, TimeProvider time, GatewayMetrics metrics,
    IdempotentPosts idempotentPosts, ILogger<ProxyResilience> logger)
{
    private readonly GatewayOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Guard> _guards = new(StringComparer.Ordinal);
    private long _shed;

    public async Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var module = proxy.Cluster.Config.ClusterId;
        if (!_guards.TryGetValue(module, out var guard))
        {
            guard = _guards.GetOrAdd(module, _ => new Guard(new RetryBudget(_options.Retries, time)));
        }
        var limit = _options.MaxRequestsPerReplica * Math.Max(1, proxy.AllDestinations.Count);
        if (_options.MaxRequestsPerReplica > 0 && Interlocked.Increment(ref guard.InFlight) > limit)
        {
            Interlocked.Decrement(ref guard.InFlight);
            await ShedAsync(context, module, limit);
            return;
        }
        try
        {
            guard.Budget.Request();
            var candidates = proxy.AvailableDestinations;
            var replayable = _options.Retries.Attempts > 1 && candidates.Count > 1 && idempotentPosts.Replayable(module, context.Request);
            if (replayable)
            {
                // Kept in memory up to 64 KB, in a temporary file beyond: read again from the start on a retry.
                context.Request.EnableBuffering(64 * 1024);
            }
            for (var attempt = 1; ; attempt++)
            {
                var idempotent = replayable || IdempotentWithoutBody(context.Request);
                var another = idempotent && attempt < _options.Retries.Attempts && candidates.Count > 1 && guard.Budget.CanRetry();
                // HttpContext.Items is allocated on first use: touched only when another attempt is possible, not on
                // every proxied request.
                if (another)
                {
                    context.Items[RetryUnavailable] = Boxed.True;
                }
                else if (attempt > 1)
                {
                    context.Items.Remove(RetryUnavailable);
                }
                await next(context);
                var heldBack = another && context.Items.Remove(HeldBack);
                if (attempt >= _options.Retries.Attempts || proxy.ProxiedDestination is not { } failed || !(heldBack || Retriable(context, replayable)))
                {
                    return;
                }
                candidates = [.. candidates.Where(d => d != failed)];
                if (candidates.Count == 0)
                {
                    return;
                }
                if (!guard.Budget.TryRetry())
                {
                    metrics.RetriesRefused.Add(1, new KeyValuePair<string, object?>("module", module));
                    if (heldBack)
                    {
                        await UnavailableAsync(context, module, failed.DestinationId);
                    }
                    return;
                }
                metrics.Retries.Add(1, new KeyValuePair<string, object?>("module", module));
                LogRetrying(logger, context.Request.Method, context.Request.Path, failed.DestinationId,
                    heldBack ? "503" : context.Features.Get<IForwarderErrorFeature>()?.Error.ToString());
                context.Features.Set<IForwarderErrorFeature>(null);
                context.Response.Headers.Clear();
                context.Response.StatusCode = StatusCodes.Status200OK;
                if (replayable)
                {
                    context.Request.Body.Position = 0;
                }
                proxy.AvailableDestinations = candidates;
            }
        }
        finally
        {
            Interlocked.Decrement(ref guard.InFlight);
        }
    }

    private const string RetryUnavailable = "strata.gateway.retry-503";
    private const string HeldBack = "strata.gateway.held-back-503";

    /// <summary>A response transform: a 503 from a replica, when the request may go to another one, is not copied to the
    /// client (its status and headers are not sent yet; its body is dropped) and the attempt is made again.</summary>
    public static ValueTask HoldBackUnavailable(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse?.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && context.HttpContext.Items.ContainsKey(RetryUnavailable))
        {
            context.SuppressResponseBody = true;
            context.HttpContext.Items[HeldBack] = Boxed.True;
        }
        return ValueTask.CompletedTask;
    }

    private static bool IdempotentWithoutBody(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) || HttpMethods.IsDelete(request.Method))
        && request.ContentLength is null or 0 && !request.Headers.ContainsKey("Transfer-Encoding");

    /// <summary>Whether the attempt that just failed may be made again elsewhere.</summary>
    /// <param name="replayable">The request is a POST the module declared idempotent and its body was kept.</param>
    internal static bool Retriable(HttpContext context, bool replayable)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested
            || context.Features.Get<IForwarderErrorFeature>() is not { } error)
        {
            return false;
        }
        if (error.Error == ForwarderError.Request && error.Exception is HttpRequestException
            { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError or HttpRequestError.NameResolutionError })
        {
            return true;
        }
        return (replayable || IdempotentWithoutBody(context.Request))
            && error.Error is ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.RequestBodyDestination;
    }

    /// <summary>The answer for a held-back 503 that could not be retried after all (the budget ran out meanwhile).</summary>
    private static async Task UnavailableAsync(HttpContext context, string module, string replica)
    {
        context.Response.Headers.Clear();
        context.Response.Headers.RetryAfter = "1";
        var unavailable = new DependencyUnavailableException(module, $"{replica} answered 503 and the retry budget is spent; retry after 1 s");
        var result = context.GetEndpoint()?.Metadata.GetMetadata<IErrorShape>()?.Translate(unavailable, context)
            ?? TypedResults.Problem(title: "Dependency unavailable", detail: unavailable.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
        await result.ExecuteAsync(context);
    }

    private async Task ShedAsync(HttpContext context, string module, int limit)
    {
        metrics.Shed.Add(1, new KeyValuePair<string, object?>("module", module));
        if (Interlocked.Increment(ref _shed) % 1000 == 1)
        {
            LogShed(logger, module, limit, Interlocked.Read(ref _shed));
        }
        context.Response.Headers.RetryAfter = "1";
        var overloaded = new DependencyUnavailableException(module, $"{limit} requests are in flight to it already; retry after 1 s");
        var result = context.GetEndpoint()?.Metadata.GetMetadata<IErrorShape>()?.Translate(overloaded, context)
            ?? TypedResults.Problem(title: "Overloaded", detail: overloaded.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
        await result.ExecuteAsync(context);
    }

    private sealed class Guard(RetryBudget budget)
    {
        public int InFlight;

        public RetryBudget Budget { get; } = budget;
    }

    private static class Boxed
    {
        public static readonly object True = true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retrying {Method} {Path} on another replica: {Replica} failed ({Error})")]
    private static partial void LogRetrying(ILogger logger, string method, PathString path, string replica, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shedding requests to {Module}: {Limit} in flight (Strata:Gateway:MaxRequestsPerReplica); {Count} shed so far")]
    private static partial void LogShed(ILogger logger, string module, int limit, long count);
}
