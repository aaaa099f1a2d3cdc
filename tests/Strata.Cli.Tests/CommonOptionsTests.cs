using Strata.Cli.Commands;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>The client commands find a running Strata without --url (issue 24: they defaulted to port 8080, where
/// nothing listens): STRATA_URL, else the address `strata up` recorded in ./.strata, else `strata up`'s default port.</summary>
public sealed class CommonOptionsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void DefaultUrl_EnvironmentThenRecordedAddressThenUpsDefaultPort()
    {
        var file = Path.Combine(_folder.Path, "address");
        Assert.Equal(new Uri("http://127.0.0.1:5000/"), CommonOptions.DefaultUrl(null, file));
        File.WriteAllText(file, "http://127.0.0.1:43211/");
        Assert.Equal(new Uri("http://127.0.0.1:43211/"), CommonOptions.DefaultUrl(null, file));
        Assert.Equal(new Uri("http://strata.internal:8443/"), CommonOptions.DefaultUrl("http://strata.internal:8443", file));
        // Garbage in either place is skipped, not used.
        File.WriteAllText(file, "not a url");
        Assert.Equal(new Uri("http://127.0.0.1:5000/"), CommonOptions.DefaultUrl("ftp://x", file));
    }
}
