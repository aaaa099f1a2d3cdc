namespace Strata.Contracts;

/// <summary>The modules (bounded contexts) a Strata process can host.</summary>
public static class ModuleNames
{
    public const string Events = "events";
    public const string Data = "data";
    public const string Features = "features";
    public const string Training = "training";
    public const string Registry = "registry";
    public const string Serving = "serving";
    public const string Gateway = "gateway";

    /// <summary>Every module with an HTTP API, in dependency order (a module only calls those before it).</summary>
    public static IReadOnlyList<string> Services { get; } = [Events, Data, Features, Registry, Training, Serving];

    /// <summary>Services plus the gateway: what <c>strata serve --module</c> accepts.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Services, Gateway];
}
