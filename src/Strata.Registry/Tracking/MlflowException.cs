namespace Strata.Registry.Tracking;

/// <summary>An error answered in MLflow's shape, <c>{"error_code": "...", "message": "..."}</c>, with MLflow's status:
/// INVALID_PARAMETER_VALUE and RESOURCE_ALREADY_EXISTS are 400, RESOURCE_DOES_NOT_EXIST is 404.</summary>
public sealed class MlflowException(string errorCode, string message, int statusCode) : Exception(message)
{
    public string ErrorCode { get; } = errorCode;

    public int StatusCode { get; } = statusCode;

    public static MlflowException InvalidParameter(string message) => new("INVALID_PARAMETER_VALUE", message, 400);

    public static MlflowException NotFound(string message) => new("RESOURCE_DOES_NOT_EXIST", message, 404);

    public static MlflowException AlreadyExists(string message) => new("RESOURCE_ALREADY_EXISTS", message, 400);

    public static MlflowException Missing(string field) => InvalidParameter($"Missing value for required parameter '{field}'.");
}
