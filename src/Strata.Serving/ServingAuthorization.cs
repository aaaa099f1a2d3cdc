using Strata.ServiceDefaults.Security;

namespace Strata.Serving;

/// <summary>The serving module's rows of the authorization table: scoring needs predict; model metadata read or predict (protocol clients read it before inferring); the V2 health routes are anonymous.</summary>
public static class ServingAuthorization
{
    public static RouteAuthorization Table { get; } = new()
    {
        ["POST /predict"] = Permissions.Predict,
        ["GET /api/serving/status"] = Permissions.Read,
        ["GET /api/serving/traffic/{model}"] = Permissions.Read,
        // Outcomes come from the application that asked for the predictions, or from people labelling data.
        ["POST /api/serving/feedback"] = Permissions.Predict | Permissions.WriteData,
        ["GET /v1/models"] = Permissions.Read | Permissions.Predict,
        ["GET /v1/models/{name}"] = Permissions.Read | Permissions.Predict,
        ["POST /v1/models/{name}:predict"] = Permissions.Predict,
        ["POST /v1/models/{name}:explain"] = Permissions.Predict,
        ["GET /v2"] = Permissions.Read | Permissions.Predict,
        ["GET /v2/health/live"] = Permissions.Anonymous,
        ["GET /v2/health/ready"] = Permissions.Anonymous,
        ["GET /v2/models/{name}"] = Permissions.Read | Permissions.Predict,
        ["GET /v2/models/{name}/ready"] = Permissions.Read | Permissions.Predict,
        ["POST /v2/models/{name}/infer"] = Permissions.Predict,
        ["GET /v2/models/{name}/versions/{version}"] = Permissions.Read | Permissions.Predict,
        ["GET /v2/models/{name}/versions/{version}/ready"] = Permissions.Read | Permissions.Predict,
        ["POST /v2/models/{name}/versions/{version}/infer"] = Permissions.Predict,
        // The catch-all answering unknown paths in the protocol's shape: any principal.
        ["ANY /v2/{**path}"] = Permissions.Authenticated,
    };

    /// <summary>Scoring answers the gateway only (the design document's <c>AuthorizationPolicy</c> on <c>POST /predict</c>):
    /// over mutual TLS, another Strata service presenting its own certificate is refused these routes.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> GatewayOnly { get; } = Table.Keys
        .Where(route => Table[route] == Permissions.Predict)
        .ToDictionary(route => route, _ => (IReadOnlyList<string>)[Contracts.ModuleNames.Gateway], StringComparer.Ordinal);
}
