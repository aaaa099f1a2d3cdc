using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Strata.Events;
using Strata.ServiceDefaults;

namespace Strata.Testing;

/// <summary>A process-like host of the Events module alone (embedded log, audit log, API) on real Kestrel at a fixed
/// loopback port and data folder, so it can be stopped and started again like a broker.</summary>
public sealed class EventsHost : IAsyncDisposable
{
    private readonly string _dataDirectory;
    private readonly IDictionary<string, string?>? _configuration;
    private WebApplication? _app;

    private EventsHost(string dataDirectory, int port, IDictionary<string, string?>? configuration)
    {
        _dataDirectory = dataDirectory;
        _configuration = configuration;
        Port = port;
    }

    /// <summary>The running host's services (its bus, its audit log).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("the host is stopped");

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/");

    /// <param name="configuration">Settings over the defaults, e.g. another broker (<c>Strata:Events:Backend</c>).</param>
    public static async Task<EventsHost> StartAsync(string dataDirectory, IDictionary<string, string?>? configuration = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var host = new EventsHost(dataDirectory, StrataUp.FreePort(), configuration);
            try
            {
                await host.StartAgainAsync();
                return host;
            }
            catch (IOException) when (attempt < 3)
            {
            }
        }
    }

    public async Task StartAgainAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Strata:DataDirectory"] = _dataDirectory });
        if (_configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(_configuration);
        }
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, Port));
        builder.Services.AddServiceDefaults();
        builder.Services.AddEventsModule("/strata/events-host");
        var app = builder.Build();
        app.UseServiceDefaults();
        app.MapEventsApi();
        await app.StartAsync();
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
