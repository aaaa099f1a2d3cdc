using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Errors;

namespace Strata.ServiceDefaults;

/// <summary>Turns the domain's exceptions into problem details: 400 / 404 / 409 / 503, each naming the field or resource.
/// Anything else is a bug, logged, and answered 500 without internals.</summary>
internal sealed partial class StrataExceptionHandler(ILogger<StrataExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var shape = httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint?.Metadata.GetMetadata<IErrorShape>();
        if (exception is not StorageFullException && StorageFullException.IsStorageFull(exception))
        {
            // However deep the store that refused the write: a 507 saying so, not a 500 (issue 24).
            LogStorageFull(logger, httpContext.Request.Path, exception.Message);
            exception = new StorageFullException(StorageFullException.Advice, exception);
        }
        var result = shape?.Translate(exception, httpContext) ?? exception switch
        {
            InputValidationException v => Problems.Validation(v.Field, v.Reason),
            BadHttpRequestException { InnerException: System.Text.Json.JsonException j } => Problems.Validation(JsonErrors.Field(j), JsonErrors.Reason(j)),
            BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } b => Problems.Validation("body", b.Message),
            BadHttpRequestException b => TypedResults.Problem(title: b.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => "Payload too large",
                    StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
                    _ => "Invalid request",
                }, detail: b.Message, statusCode: b.StatusCode,
                extensions: new Dictionary<string, object?>
                {
                    ["field"] = b.StatusCode == StatusCodes.Status415UnsupportedMediaType ? "content-type" : "body",
                    ["reason"] = b.Message,
                }),
            ResourceNotFoundException n => Problems.NotFound(n.Resource, n.Id),
            ResourceConflictException c => Problems.Conflict(c.Message),
            DependencyUnavailableException d => Problems.Unavailable(d.Dependency, d.Message),
            AccessDeniedException a => TypedResults.Problem(title: a.Authenticated ? "Forbidden" : "Unauthorized", detail: a.Message, statusCode: a.Status),
            StorageFullException s => TypedResults.Problem(title: "Insufficient storage", detail: s.Message, statusCode: StatusCodes.Status507InsufficientStorage),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => Results.Empty,
            _ => TypedResults.Problem(title: "Internal error", statusCode: StatusCodes.Status500InternalServerError),
        };
        if (result is IStatusCodeHttpResult { StatusCode: >= 500 } && exception is not (DependencyUnavailableException or StorageFullException))
        {
            LogUnhandled(logger, httpContext.Request.Path, exception);
        }
        await result.ExecuteAsync(httpContext);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage full on {Path}: {Reason}")]
    private static partial void LogStorageFull(ILogger logger, PathString path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Path}")]
    private static partial void LogUnhandled(ILogger logger, PathString path, Exception exception);
}
