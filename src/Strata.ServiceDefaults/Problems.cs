using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Strata.ServiceDefaults;

/// <summary>The problem+json answers Strata gives: each names the field (or resource) and the reason.</summary>
public static class Problems
{
    public static ProblemHttpResult Validation(string field, string reason) => TypedResults.Problem(
        title: "Invalid request",
        detail: $"{field}: {reason}",
        statusCode: StatusCodes.Status400BadRequest,
        extensions: new Dictionary<string, object?> { ["field"] = field, ["reason"] = reason });

    public static ProblemHttpResult NotFound(string resource, string id) => TypedResults.Problem(
        title: "Not found",
        detail: $"{resource} '{id}' does not exist",
        statusCode: StatusCodes.Status404NotFound,
        extensions: new Dictionary<string, object?> { ["resource"] = resource, ["id"] = id });

    public static ProblemHttpResult Conflict(string detail) => TypedResults.Problem(
        title: "Conflict", detail: detail, statusCode: StatusCodes.Status409Conflict);

    public static ProblemHttpResult Unavailable(string dependency, string detail) => TypedResults.Problem(
        title: "Dependency unavailable",
        detail: detail,
        statusCode: StatusCodes.Status503ServiceUnavailable,
        extensions: new Dictionary<string, object?> { ["dependency"] = dependency });
}
