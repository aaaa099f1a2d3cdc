using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Strata.Contracts.Events;
using Strata.Contracts.Security;
using Strata.ServiceDefaults.Security;

namespace Strata.Security;

/// <summary>Writes a state-changing request to the audit log as a <c>security.request_audited</c> event: who, what, from
/// where, the outcome. A bus that cannot take it is logged (the request's own outcome does not change).</summary>
public sealed partial class RequestAuditor(IServiceProvider services, SecurityRuntime runtime, ILogger<RequestAuditor> logger)
{
    private readonly IEventPublisher? _publisher = services.GetService<IEventPublisher>();

    public async Task RecordAsync(HttpContext context, AccessRule rule, string outcome, int status)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(rule);
        if (_publisher is null)
        {
            return;
        }
        var user = context.User;
        var name = user.Identity?.Name ?? "anonymous";
        var record = new RequestAuditedEvent(name, user.FindFirst(StrataClaims.Kind)?.Value ?? "unknown", user.FindFirst(StrataClaims.KeyId)?.Value,
            context.Request.Method, rule.Route, context.Request.Path.Value ?? "/", context.Connection.RemoteIpAddress?.ToString(), status, outcome,
            runtime.Process, Activity.Current?.TraceId.ToString());
        try
        {
            await _publisher.PublishAsync(EventTopics.RequestAudited, name, record, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogNotAudited(logger, context.Request.Method, rule.Route, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit record of {Method} {Route} not written: {Reason}")]
    private static partial void LogNotAudited(ILogger logger, string method, string route, string reason);
}
