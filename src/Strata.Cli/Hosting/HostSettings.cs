using Strata.Contracts;

namespace Strata.Cli.Hosting;

/// <summary>What one Strata process hosts: a set of modules (all of them for the monolith; one, or the gateway,
/// in the microservices topology), where it listens and where its embedded state lives.</summary>
public sealed record HostSettings(IReadOnlyList<string> Modules, int Port, string DataDirectory)
{
    public string Bind { get; init; } = "127.0.0.1";

    /// <summary>A listening socket inherited from the supervisor (<see cref="Supervision.InheritableListener"/>),
    /// used instead of binding <see cref="Port"/>.</summary>
    public int? ListenDescriptor { get; init; }

    /// <summary>Base URLs of modules hosted elsewhere (<c>Strata:Services:&lt;module&gt;</c>), merged over configuration.</summary>
    public IReadOnlyDictionary<string, string> ServiceUrls { get; init; } = new Dictionary<string, string>();

    /// <summary>Extra configuration (tests, CLI flags), applied last.</summary>
    public IReadOnlyDictionary<string, string?> Configuration { get; init; } = new Dictionary<string, string?>();

    public static HostSettings Monolith(int port, string dataDirectory) => new(ModuleNames.All, port, dataDirectory);

    public bool Hosts(string module) => Modules.Contains(module);

    public bool IsMonolith => ModuleNames.Services.All(Hosts);
}
