using Microsoft.AspNetCore.Http;
using Strata.Contracts.Errors;

namespace Strata.Serving;

/// <summary>Every scoring request has an id: the caller's <c>X-Request-Id</c> (1 to 128 visible ASCII characters) or a
/// new one (a version 7 UUID), answered in <c>X-Request-Id</c>. The prediction log records it (with the row of a
/// batch), and feedback names it to join an outcome to the prediction.</summary>
public static class RequestIds
{
    public const string Header = "X-Request-Id";

    public const int MaxLength = 128;

    public static string Assign(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string id;
        if (context.Request.Headers.TryGetValue(Header, out var given) && given.Count > 0)
        {
            id = given.Count == 1 && IsValid(given[0]) ? given[0]!
                : throw new InputValidationException(Header, $"must be one value of 1 to {MaxLength} visible ASCII characters");
        }
        else
        {
            id = Guid.CreateVersion7().ToString("N");
        }
        context.Response.Headers[Header] = id;
        return id;
    }

    public static bool IsValid(string? id) => id is { Length: > 0 and <= MaxLength } && id.All(c => c is > ' ' and < '\u007f');
}
