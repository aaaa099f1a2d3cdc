namespace Strata.Gateway;

/// <summary>Where each module's process listens (<c>Strata:Services:&lt;module&gt;</c> = base URL), as the gateway sees it.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Strata:Services";

    public Dictionary<string, Uri> Services { get; } = new(StringComparer.Ordinal);
}
