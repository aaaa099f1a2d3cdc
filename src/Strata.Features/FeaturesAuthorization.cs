using Strata.ServiceDefaults.Security;

namespace Strata.Features;

/// <summary>The features module's rows of the authorization table: queries (plan, compute, training frames, online and historical features) need read; pushes, materialisation and applying definitions write-data.</summary>
public static class FeaturesAuthorization
{
    public static RouteAuthorization Table { get; } = new()
    {
        ["GET /api/features/views"] = Permissions.Read,
        ["GET /api/features/views/{name}"] = Permissions.Read,
        ["POST /api/features/plan"] = Permissions.Read,
        ["POST /api/features/apply"] = Permissions.WriteData,
        ["GET /api/features/definitions"] = Permissions.Read,
        ["GET /api/features/definitions/versions"] = Permissions.Read,
        ["POST /api/features/views/{name}/compute"] = Permissions.Read,
        ["GET /api/features/entities"] = Permissions.Read,
        ["GET /api/features/push-sources"] = Permissions.Read,
        ["GET /api/features/services"] = Permissions.Read,
        ["GET /api/features/services/{name}"] = Permissions.Read,
        ["POST /api/features/training-frame"] = Permissions.Read,
        ["POST /api/features/get-online-features"] = Permissions.Read,
        ["POST /api/features/push"] = Permissions.WriteData,
        ["POST /api/features/historical"] = Permissions.Read,
        ["POST /api/features/materialize"] = Permissions.WriteData,
        ["POST /api/features/materialize-incremental"] = Permissions.WriteData,
    };
}
