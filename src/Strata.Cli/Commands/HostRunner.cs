using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Strata.Hosting;

namespace Strata.Cli.Commands;

/// <summary>Builds and starts a host, turning the ways a start fails into one-line <see cref="StartupException"/>s.</summary>
internal static class HostRunner
{
    public static async Task<WebApplication> StartAsync(HostSettings settings, CancellationToken cancellationToken)
    {
        WebApplication app;
        try
        {
            app = StrataHost.Build(settings);
        }
        catch (ArgumentException e)
        {
            throw new StartupException(e.Message, e);
        }
        try
        {
            await app.StartAsync(cancellationToken);
            return app;
        }
        catch (Exception e) when (IsAddressInUse(e))
        {
            await app.DisposeAsync();
            throw new StartupException($"port {settings.Port} on {settings.Bind} is already in use", e);
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException e)
        {
            await app.DisposeAsync();
            throw new StartupException($"invalid configuration: {string.Join("; ", e.Failures)}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await app.DisposeAsync();
            throw new StartupException($"could not start: {e.Message}", e);
        }
    }

    /// <summary>The address the host actually listens on (resolves port 0).</summary>
    public static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    private static bool IsAddressInUse(Exception e) =>
        e is IOException { InnerException: SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } }
        || e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }
        || e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }
        || (e is IOException && e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase));
}
