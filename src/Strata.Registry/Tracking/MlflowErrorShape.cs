using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Strata.Contracts.Errors;
using Strata.ServiceDefaults;

namespace Strata.Registry.Tracking;

/// <summary>The only place the domain's exceptions become MLflow's error body, <c>{"error_code", "message"}</c>, with
/// MLflow's status codes: a rejected value (INVALID_PARAMETER_VALUE) and a name already taken (RESOURCE_ALREADY_EXISTS)
/// are 400, a missing resource (RESOURCE_DOES_NOT_EXIST) 404, an unavailable dependency (TEMPORARILY_UNAVAILABLE) 503;
/// a bug is INTERNAL_ERROR 500 without internals.</summary>
public sealed class MlflowErrorShape : IErrorShape
{
    public static MlflowErrorShape Instance { get; } = new();

    public IResult? Translate(Exception exception, HttpContext context) => exception switch
    {
        InputValidationException v => Invalid($"Invalid value for parameter '{v.Field}' supplied: {v.Reason}"),
        ResourceNotFoundException n => Error(StatusCodes.Status404NotFound, "RESOURCE_DOES_NOT_EXIST", n.Message),
        ResourceConflictException c => Error(StatusCodes.Status400BadRequest, "RESOURCE_ALREADY_EXISTS", c.Message),
        // MLflow's server answers these codes when its authentication is on (mlflow.server.auth).
        AccessDeniedException { Authenticated: false } a => Error(StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", a.Message),
        AccessDeniedException a => Error(StatusCodes.Status403Forbidden, "PERMISSION_DENIED", a.Message),
        RateLimitedException r => Error(StatusCodes.Status429TooManyRequests, "REQUEST_LIMIT_EXCEEDED", r.Message),
        DependencyUnavailableException d => Error(StatusCodes.Status503ServiceUnavailable, "TEMPORARILY_UNAVAILABLE", d.Message),
        StorageFullException s => Error(StatusCodes.Status507InsufficientStorage, "RESOURCE_EXHAUSTED", s.Message),
        BadHttpRequestException { InnerException: JsonException j } => NotJson(j),
        JsonException j => NotJson(j),
        // As MLflow's server: a POST body must be declared JSON.
        BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } =>
            Invalid($"Bad Request. Content-Type must be application/json, not '{context.Request.ContentType}'."),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } b => Error(b.StatusCode, "REQUEST_LIMIT_EXCEEDED", b.Message),
        BadHttpRequestException b => Invalid($"Invalid request body: {b.Message}"),
        OperationCanceledException when context.RequestAborted.IsCancellationRequested => null,
        _ => Error(StatusCodes.Status500InternalServerError, "INTERNAL_ERROR", "Internal error."),
    };

    public static JsonHttpResult<MlflowError> Error(int statusCode, string errorCode, string message) =>
        TypedResults.Json(new MlflowError(errorCode, message), statusCode: statusCode);

    private static JsonHttpResult<MlflowError> NotJson(JsonException j) => Invalid(
        $"Invalid value for parameter '{JsonErrors.Field(j)}' supplied: {JsonErrors.Reason(j)}");

    private static JsonHttpResult<MlflowError> Invalid(string message) => Error(StatusCodes.Status400BadRequest, "INVALID_PARAMETER_VALUE", message);
}
