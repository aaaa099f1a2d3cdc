using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Strata.ServiceDefaults;

/// <summary>Endpoint metadata for a protocol with its own error body (MLflow's <c>{error_code, message}</c>, the Open
/// Inference Protocol's <c>{error}</c>): the exception handler asks it first, so the domain's exceptions and binding
/// failures leave in the protocol's shape; what it declines (null) becomes problem details as everywhere else.</summary>
public interface IErrorShape
{
    IResult? Translate(Exception exception, HttpContext context);
}

public static class ErrorShapeExtensions
{
    /// <summary>Errors of these endpoints are answered in <paramref name="shape"/>.</summary>
    public static TBuilder WithErrorShape<TBuilder>(this TBuilder builder, IErrorShape shape)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(shape);
}

/// <summary>What a JSON binding failure says, in every error shape: the field (the JSON path, <c>body</c> for the
/// document itself) and the reason with the position.</summary>
public static class JsonErrors
{
    public static string Field(System.Text.Json.JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return string.IsNullOrEmpty(exception.Path) || exception.Path == "$" ? "body" : exception.Path.TrimStart('$', '.');
    }

    public static string Reason(System.Text.Json.JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return "is not valid JSON of the expected shape" + (exception.LineNumber is null ? "" : $" (line {exception.LineNumber + 1}, byte {exception.BytePositionInLine})");
    }
}
