using Strata.ServiceDefaults.Security;

namespace Strata.Events;

/// <summary>The events module's rows of the authorization table: the audit log and dead letters are read with read-audit; replay and redrive need operate; publishing from outside needs write-data; the embedded broker's routes are internal (Strata's processes only).</summary>
public static class EventsAuthorization
{
    public static RouteAuthorization Table { get; } = new()
    {
        ["GET /api/events"] = Permissions.ReadAudit,
        ["GET /api/events/dead-letters"] = Permissions.ReadAudit,
        ["POST /api/events/dead-letters/{id}/redrive"] = Permissions.Operate,
        ["POST /api/events/replay"] = Permissions.Operate,
        ["GET /api/events/consumers"] = Permissions.Read,
        ["POST /api/events/{topic}"] = Permissions.WriteData,
        ["POST /api/events/topics/{topic}/messages"] = Permissions.Internal,
        ["POST /api/events/topics/{topic}/groups/{group}/join"] = Permissions.Internal,
        ["POST /api/events/topics/{topic}/groups/{group}/fetch"] = Permissions.Internal,
        ["POST /api/events/topics/{topic}/groups/{group}/ack"] = Permissions.Internal,
        ["POST /api/events/topics/{topic}/groups/{group}/release"] = Permissions.Internal,
        ["GET /api/events/topics/{topic}/groups"] = Permissions.Internal,
    };
}
