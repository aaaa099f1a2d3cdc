using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Strata.Contracts;
using Strata.Hosting;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Modules;

namespace Strata.Testing;

/// <summary>The real modules composed in process over a temp data directory from the one module list, as the monolith
/// composes them (without HTTP), with their hosted services started (registry schema, model refresher).</summary>
public sealed class InProcessModules : IAsyncDisposable
{
    private readonly IHost _host;

    private InProcessModules(IHost host, TempFolder folder)
    {
        _host = host;
        Folder = folder;
    }

    public TempFolder Folder { get; }

    public IServiceProvider Services => _host.Services;

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    /// <param name="eventsUrl">Where the Events module runs when not here (the bus is then its embedded log over HTTP).</param>
    public static async Task<InProcessModules> StartAsync(bool serving = false, IDictionary<string, string?>? configuration = null, Uri? eventsUrl = null)
    {
        var folder = new TempFolder();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Strata:DataDirectory"] = folder.Path,
            ["Strata:Serving:RefreshInterval"] = "00:00:00.100",
        });
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }
        builder.Logging.ClearProviders();
        builder.Services.AddServiceDefaults();
        var context = new ModuleContext(builder.Services, builder.Configuration, "test");
        StrataModules.AddDefinitions(builder.Services);
        foreach (var module in StrataModules.All.Where(m => serving || m.Name != ModuleNames.Serving))
        {
            if (module.Name == ModuleNames.Events && eventsUrl is not null)
            {
                module.AddHttpClient(context, eventsUrl);
            }
            else
            {
                module.AddServices(context);
            }
        }
        var host = builder.Build();
        await host.StartAsync();
        return new InProcessModules(host, folder);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        Folder.Dispose();
    }
}
