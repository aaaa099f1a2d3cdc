namespace Strata.Contracts.Features;

/// <summary>The Features module's routes: <c>FeaturesApi</c> maps these templates under <see cref="Prefix"/> and
/// <see cref="HttpFeaturesClient"/> fills them (<see cref="Http.RoutePath"/>).</summary>
public static class FeaturesRoutes
{
    public const string Prefix = "/api/features";
    public const string Views = "/views";
    public const string View = "/views/{name}";
    public const string Compute = "/views/{name}/compute";
    public const string Entities = "/entities";
    public const string PushSources = "/push-sources";
    public const string Services = "/services";
    public const string Service = "/services/{name}";
    public const string TrainingFrame = "/training-frame";
    public const string OnlineFeatures = "/get-online-features";
    public const string Push = "/push";
    public const string Historical = "/historical";
    public const string Materialize = "/materialize";
    public const string MaterializeIncremental = "/materialize-incremental";
    public const string Definitions = "/definitions";
    public const string DefinitionVersions = "/definitions/versions";
    public const string Plan = "/plan";
    public const string Apply = "/apply";
}
