using Microsoft.AspNetCore.Http;
using Strata.Contracts.Errors;

namespace Strata.Serving;

/// <summary>A scoring request's id: the caller's <c>X-Request-Id</c> (1 to 128 visible ASCII characters; an order id, a
/// transaction id), or, for a request a traffic policy routes (always logged), a new one (a version 7 UUID). It is
/// answered in <c>X-Request-Id</c>; the prediction log records it (with the row of a batch), and feedback names it to
/// join an outcome to the prediction. A request without either has none: nothing would join to it (the log samples
/// unrouted predictions), and making one costs the hot path about a tenth of its throughput.</summary>
public static class RequestIds
{
    public const string Header = "X-Request-Id";

    public const int MaxLength = 128;

    /// <summary>The caller's id (answered back), or null when it sent none.</summary>
    public static string? Given(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Headers.TryGetValue(Header, out var given) || given.Count == 0)
        {
            return null;
        }
        var id = given.Count == 1 && IsValid(given[0]) ? given[0]!
            : throw new InputValidationException(Header, $"must be one value of 1 to {MaxLength} visible ASCII characters");
        context.Response.Headers[Header] = id;
        return id;
    }

    /// <summary>The id of a routed request: the caller's, or a new one answered in <c>X-Request-Id</c>.</summary>
    public static string ForRouted(HttpContext context, string? given)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (given is not null)
        {
            return given;
        }
        var id = Guid.CreateVersion7().ToString("N");
        context.Response.Headers[Header] = id;
        return id;
    }

    public static bool IsValid(string? id) => id is { Length: > 0 and <= MaxLength } && id.All(c => c is > ' ' and < '\u007f');
}
