using Strata.ServiceDefaults.Security;

namespace Strata.Security.Limits;

/// <summary>The route groups rate limits are configured for, from the permission a route needs: <c>predict</c>,
/// <c>read</c>, <c>write</c> (ingestion, pushes, definitions), <c>train</c>, <c>models</c> (registering, aliases),
/// <c>admin</c> (keys, replay, redrive, the audit log). Strata's own processes (internal routes) are never limited.</summary>
public static class RouteGroups
{
    public static IReadOnlyList<string> All { get; } = ["predict", "read", "write", "train", "models", "admin"];

    public static string? Of(Permissions required) =>
        required.HasFlag(Permissions.Internal) ? null
        : required.HasFlag(Permissions.Predict) && !required.HasFlag(Permissions.Read) ? "predict"
        : (required & (Permissions.ManageKeys | Permissions.Operate | Permissions.ReadAudit)) != 0 ? "admin"
        : required.HasFlag(Permissions.ManageModels) ? "models"
        : required.HasFlag(Permissions.Train) ? "train"
        : required.HasFlag(Permissions.WriteData) ? "write"
        : "read";
}
