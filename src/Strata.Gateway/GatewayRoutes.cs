using Strata.Contracts;

namespace Strata.Gateway;

/// <summary>The one URL space of Strata: which module answers which paths. The monolith maps these paths in
/// process; the gateway of the microservices topology proxies them to the module's process. Same URLs either way.</summary>
public static class GatewayRoutes
{
    /// <summary>Module to YARP path patterns.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> ByModule { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        [ModuleNames.Events] = ["/api/events", "/api/events/{**rest}", "/openapi/events.json"],
        [ModuleNames.Data] = ["/api/data/{**rest}", "/openapi/data.json"],
        [ModuleNames.Features] = ["/api/features/{**rest}", "/openapi/features.json"],
        [ModuleNames.Registry] = ["/api/registry/{**rest}", "/api/2.0/mlflow/{**rest}", "/openapi/registry.json"],
        [ModuleNames.Training] = ["/api/training/{**rest}", "/train", "/openapi/training.json"],
        [ModuleNames.Serving] = ["/predict", "/api/serving/{**rest}", "/v1/{**rest}", "/v2", "/v2/{**rest}", "/openapi/serving.json"],
    };
}
