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
