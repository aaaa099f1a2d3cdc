using Strata.ServiceDefaults.Security;

namespace Strata.Data;

/// <summary>The data module's rows of the authorization table: reading datasets needs read; ingesting write-data.</summary>
public static class DataAuthorization
{
    public static RouteAuthorization Table { get; } = new()
    {
        ["POST /api/data/datasets/{name}"] = Permissions.WriteData,
        ["GET /api/data/datasets/{id}/parquet"] = Permissions.Read,
        ["GET /api/data/datasets"] = Permissions.Read,
        ["GET /api/data/datasets/{id}"] = Permissions.Read,
        ["GET /api/data/datasets/{id}/columns"] = Permissions.Read,
    };
}
