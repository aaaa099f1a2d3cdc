namespace Strata.Contracts.Registry;

/// <summary>The Registry module's own routes: <c>RegistryApi</c> maps these templates under <see cref="Prefix"/> and
/// <see cref="HttpRegistryClient"/> fills them (<see cref="Http.RoutePath"/>). Its MLflow-compatible API is
/// <see cref="Tracking.MlflowRoutes"/>.</summary>
public static class RegistryRoutes
{
    public const string Prefix = "/api/registry";
    public const string Artifacts = "/artifacts";
    public const string Artifact = "/artifacts/{sha256}";
    public const string Models = "/models";
    public const string Versions = "/models/{model}/versions";
    public const string Version = "/models/{model}/versions/{version}";
    public const string Alias = "/models/{model}/aliases/{alias}";
    public const string Traffic = "/models/{model}/traffic";
    public const string TrafficHistory = "/models/{model}/traffic/history";
}
