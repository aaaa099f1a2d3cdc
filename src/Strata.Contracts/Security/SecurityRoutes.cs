namespace Strata.Contracts.Security;

/// <summary>The Security module's routes.</summary>
public static class SecurityRoutes
{
    public const string Prefix = "/api/security";
    public const string Keys = Prefix + "/keys";
    public const string KeySnapshot = Prefix + "/key-snapshot";
    public const string WhoAmI = Prefix + "/whoami";
    public const string Roles = Prefix + "/roles";
    public const string Routes = Prefix + "/routes";

    /// <summary>The header a caller may use instead of <c>Authorization: Bearer</c> (as MLflow's and Seldon's clients can).</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>The environment variable the CLI (and the SDK) read an API key from.</summary>
    public const string ApiKeyVariable = "STRATA_API_KEY";
}
