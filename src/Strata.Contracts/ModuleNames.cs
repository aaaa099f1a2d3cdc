namespace Strata.Contracts;

/// <summary>The names of Strata's modules (bounded contexts), as clients and errors name them. Which modules make up
/// Strata, and what each declares, is the list of module descriptors in <c>Strata.Hosting.StrataModules</c>.</summary>
public static class ModuleNames
{
    public const string Events = "events";
    public const string Security = "security";
    public const string Data = "data";
    public const string Features = "features";
    public const string Training = "training";
    public const string Registry = "registry";
    public const string Serving = "serving";
    public const string Monitoring = "monitoring";

    /// <summary>Not a module: the front door of the microservices topology, and a service identity of its own.</summary>
    public const string Gateway = "gateway";
    public const string Dashboard = "dashboard";

    /// <summary>Not a module: the identity of <c>strata up</c>'s supervisor, which may call the health endpoints only.</summary>
    public const string Supervisor = "supervisor";
}
