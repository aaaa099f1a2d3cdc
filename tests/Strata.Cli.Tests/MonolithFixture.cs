using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Strata.Cli.Commands;
using Strata.Cli.Hosting;
using Strata.Cli.Seed;
using Strata.Contracts.Data;
using Strata.Contracts.Registry;
using Strata.Contracts.Training;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>A seeded monolith on real Kestrel (127.0.0.1, free port), shared by a test class.</summary>
public sealed class MonolithFixture : IAsyncLifetime
{
    private readonly TempFolder _folder = new();

    public WebApplication App { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = StrataHost.Build(HostSettings.Monolith(0, _folder.Path) with
        {
            Configuration = new Dictionary<string, string?>
            {
                ["Strata:Serving:RefreshInterval"] = "00:00:00.100",
                ["Strata:Serving:PredictionLogSampleRate"] = "1",
            },
        });
        await App.StartAsync();
        Http = new HttpClient { BaseAddress = HostRunner.Address(App) };
        await new SeedExample(App.Services.GetRequiredService<IDataClient>(), App.Services.GetRequiredService<ITrainingClient>(),
            App.Services.GetRequiredService<IRegistryClient>()).EnsureAsync(_folder.Path, null, CancellationToken.None);
        await Readiness.WaitAsync(Http, TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        _folder.Dispose();
    }
}
