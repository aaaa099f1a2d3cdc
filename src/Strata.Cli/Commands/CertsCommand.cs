using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Contracts;
using Strata.Hosting;
using Strata.Security.Certificates;

namespace Strata.Cli.Commands;

/// <summary><c>strata certs init|rotate|ls</c>: the private CA and the certificate of each service identity that the
/// processes of the microservices topology use for mutual TLS (files under the data directory; <c>strata up</c> runs
/// <c>init</c> itself). Rotation replaces the files; running processes pick them up without a restart.</summary>
public static class CertsCommand
{
    /// <summary>The setting (as an environment variable) that turns mutual TLS off for a supervised topology.</summary>
    public const string EnabledVariable = "Strata__Security__Mtls__Enabled";

    private const string DirectoryVariable = "Strata__Security__Mtls__Directory";

    /// <summary>Every identity a certificate is issued for: each module, the gateway, and the supervisor.</summary>
    public static IReadOnlyList<string> Identities { get; } =
        [.. StrataModules.All.Select(m => m.Name), ModuleNames.Gateway, ModuleNames.Supervisor];

    public static Command Create()
    {
        var command = new Command("certs", "Mutual TLS between services: the private CA and a certificate per service");
        command.Subcommands.Add(Init());
        command.Subcommands.Add(Rotate());
        command.Subcommands.Add(List());
        return command;
    }

    /// <summary>The folder of the certificates of <paramref name="dataDirectory"/> (or <c>Strata__Security__Mtls__Directory</c>).</summary>
    public static string Folder(string dataDirectory) =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } configured ? Path.GetFullPath(configured) : ServiceCertificates.DefaultDirectory(dataDirectory);

    /// <summary>For <c>strata up --topology microservices</c>: unless turned off, makes sure the CA and every certificate
    /// exist (and are not about to expire), and returns the supervisor's side of mutual TLS.</summary>
    internal static MutualTls? SupervisorTls(string dataDirectory)
    {
        if (string.Equals(Environment.GetEnvironmentVariable(EnabledVariable), "false", StringComparison.OrdinalIgnoreCase))
        {
            AnsiConsole.MarkupLine($"[yellow]mutual TLS between services is off ({EnabledVariable}=false): module ports speak plain HTTP[/]");
            return null;
        }
        var folder = Folder(dataDirectory);
        var changes = new ServiceCertificates(folder, TimeProvider.System).Init(Identities);
        if (changes.CaCreated)
        {
            AnsiConsole.MarkupLineInterpolated($"created a private CA and certificates for {changes.Issued.Count} services in {folder} (mutual TLS between services)");
        }
        else if (changes.Issued.Count > 0)
        {
            AnsiConsole.MarkupLineInterpolated($"renewed the certificates of {string.Join(", ", changes.Issued)} in {folder}");
        }
        return new MutualTls(folder, ModuleNames.Supervisor, TimeProvider.System);
    }

    private static Command Init()
    {
        var dataDir = StrataCommand.DataDirOption();
        var json = CommonOptions.Json();
        var command = new Command("init", "Create the CA and any missing (or expiring) service certificate; changes nothing that is in order") { dataDir, json };
        command.SetAction(parse =>
        {
            var certificates = new ServiceCertificates(Folder(parse.GetValue(dataDir)!), TimeProvider.System);
            return Report(certificates, certificates.Init(Identities), parse.GetValue(json));
        });
        return command;
    }

    private static Command Rotate()
    {
        var dataDir = StrataCommand.DataDirOption();
        var json = CommonOptions.Json();
        var ca = new Option<bool>("--ca") { Description = "Also replace the CA (the old one stays trusted beside it until the next --ca rotation)" };
        var command = new Command("rotate", "Issue new certificates (and keys) for every service; running services pick them up within seconds") { dataDir, ca, json };
        command.SetAction(parse =>
        {
            var certificates = new ServiceCertificates(Folder(parse.GetValue(dataDir)!), TimeProvider.System);
            if (!certificates.Exists)
            {
                Console.Error.WriteLine($"strata: there is no Strata CA in {certificates.Directory}: run 'strata certs init' (or 'strata up --topology microservices') first");
                return 1;
            }
            return Report(certificates, certificates.Rotate(Identities, parse.GetValue(ca)), parse.GetValue(json));
        });
        return command;
    }

    private static Command List()
    {
        var dataDir = StrataCommand.DataDirOption();
        var json = CommonOptions.Json();
        var command = new Command("ls", "List the service certificates: identity, serial, validity, issuer") { dataDir, json };
        command.SetAction(parse =>
        {
            var certificates = new ServiceCertificates(Folder(parse.GetValue(dataDir)!), TimeProvider.System);
            var list = certificates.List();
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(list);
            }
            if (list.Count == 0)
            {
                AnsiConsole.MarkupLineInterpolated($"no certificates in {certificates.Directory}: run 'strata certs init'");
                return 0;
            }
            Print(list);
            return 0;
        });
        return command;
    }

    private static int Report(ServiceCertificates certificates, CertificateChanges changes, bool json)
    {
        if (json)
        {
            return CommonOptions.PrintJson(new { created_ca = changes.CaCreated, issued = changes.Issued, kept = changes.Kept, directory = certificates.Directory });
        }
        if (changes.CaCreated)
        {
            AnsiConsole.MarkupLineInterpolated($"created a CA in {certificates.Directory}");
        }
        AnsiConsole.MarkupLineInterpolated($"issued {changes.Issued.Count} certificates{(changes.Kept.Count > 0 ? $", {changes.Kept.Count} in order and kept" : string.Empty)}");
        Print(certificates.List());
        return 0;
    }

    private static void Print(IReadOnlyList<CertificateInfo> list)
    {
        var table = new Table().AddColumns("identity", "serial", "valid until", "issuer");
        foreach (var certificate in list)
        {
            // The issuer's common name ("Strata CA 1a2b3c4d"): which CA signed it, in a width a terminal shows on one line.
            var issuer = certificate.Issuer.Split(", ").FirstOrDefault(p => p.StartsWith("CN=", StringComparison.Ordinal))?[3..] ?? certificate.Issuer;
            table.AddRow(Markup.Escape(certificate.Identity), certificate.Serial[..Math.Min(16, certificate.Serial.Length)],
                certificate.NotAfter.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), Markup.Escape(issuer));
        }
        AnsiConsole.Write(table);
    }
}
