using Strata.ServiceDefaults.Modules;

namespace Strata.Hosting;

/// <summary>What one Strata process hosts: a set of modules (all of them for the monolith; one, or the gateway,
/// in the microservices topology), where it listens and where its embedded state lives.</summary>
public sealed record HostSettings(IReadOnlyList<string> Modules, int Port, string DataDirectory)
{
    /// <summary>The name <c>strata serve --module</c> gives the gateway: the front door, not a module of its own.</summary>
    public const string Gateway = Strata.Contracts.ModuleNames.Gateway;

    public string Bind { get; init; } = "127.0.0.1";

    /// <summary>Which replica of its module this process is (1, unless <c>strata up --replicas</c> runs several).</summary>
    public int Replica { get; init; } = 1;

    /// <summary>A listening socket inherited from a supervisor, used instead of binding <see cref="Port"/>.</summary>
    public int? ListenDescriptor { get; init; }

    /// <summary>Base URLs of modules hosted elsewhere (<c>Strata:Services:&lt;module&gt;</c>), merged over configuration.</summary>
    public IReadOnlyDictionary<string, string> ServiceUrls { get; init; } = new Dictionary<string, string>();

    /// <summary>Extra configuration (tests, CLI flags), applied last.</summary>
    public IReadOnlyDictionary<string, string?> Configuration { get; init; } = new Dictionary<string, string?>();

    /// <summary>The modules this Strata is made of (<see cref="StrataModules.All"/>; tests add their own).</summary>
    public IReadOnlyList<ModuleDescriptor> Catalog { get; init; } = StrataModules.All;

    /// <summary>What the front door serves beside the modules' APIs, hosted by whichever process hosts the gateway (the
    /// monolith, or the gateway's process), never on their own. Unset: <see cref="StrataModules.Front"/> (the dashboard)
    /// with Strata's own catalog, nothing with a catalog of one's own (whose modules the dashboard could not call).</summary>
    public IReadOnlyList<ModuleDescriptor>? Front { get; init; }

    /// <summary>The front's descriptors when this process is the front door, else none.</summary>
    public IEnumerable<ModuleDescriptor> HostedFront =>
        !Hosts(Gateway) ? [] : Front ?? (ReferenceEquals(Catalog, StrataModules.All) ? StrataModules.Front : []);

    /// <summary>Every module and the gateway, in one process.</summary>
    public static HostSettings Monolith(int port, string dataDirectory) => Monolith(port, dataDirectory, StrataModules.All);

    public static HostSettings Monolith(int port, string dataDirectory, IReadOnlyList<ModuleDescriptor> catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new HostSettings([.. catalog.Select(d => d.Name), Gateway], port, dataDirectory) { Catalog = catalog };
    }

    /// <summary>What <c>strata serve --module</c> accepts: every module's name and the gateway.</summary>
    public static IReadOnlyList<string> ServeNames(IReadOnlyList<ModuleDescriptor> catalog) => [.. catalog.Select(d => d.Name), Gateway];

    public bool Hosts(string module) => Modules.Contains(module);

    public bool IsMonolith => Catalog.All(d => Hosts(d.Name));

    /// <summary>The modules of the catalog hosted here, in the catalog's order.</summary>
    public IEnumerable<ModuleDescriptor> Hosted => Catalog.Where(d => Hosts(d.Name));
}
