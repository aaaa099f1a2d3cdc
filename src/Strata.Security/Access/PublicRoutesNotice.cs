using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Strata.Security;

/// <summary>Says at start which routes the configuration opened to anyone, so an open route is never a surprise.</summary>
internal sealed partial class PublicRoutesNotice(AccessTable table, ILogger<PublicRoutesNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (table.PublicRoutes.Count > 0)
        {
            LogPublic(logger, string.Join(", ", table.PublicRoutes));
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Routes open to anyone without credentials (Strata:Security:PublicRoutes): {Routes}")]
    private static partial void LogPublic(ILogger logger, string routes);
}
