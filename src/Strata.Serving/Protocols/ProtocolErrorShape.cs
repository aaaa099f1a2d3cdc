using Microsoft.AspNetCore.Http;
using Strata.Contracts.Errors;
using Strata.ServiceDefaults;

namespace Strata.Serving.Protocols;

/// <summary>The KServe protocols' error shape for what happens before a handler runs: a refused credential is
/// <c>{"error": ...}</c> with 401, 403 or 429 (the handlers answer their own failures, see <see cref="ProtocolException"/>).</summary>
public sealed class ProtocolErrorShape : IErrorShape
{
    public static ProtocolErrorShape Instance { get; } = new();

    public IResult? Translate(Exception exception, HttpContext context) => exception switch
    {
        AccessDeniedException a => new ProtocolException(a.Status, a.Message).ToResult(),
        RateLimitedException r => new ProtocolException(StatusCodes.Status429TooManyRequests, r.Message).ToResult(),
        StorageFullException s => new ProtocolException(StatusCodes.Status507InsufficientStorage, s.Message).ToResult(),
        _ => null,
    };
}
