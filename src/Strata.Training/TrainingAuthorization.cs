using Strata.ServiceDefaults.Security;

namespace Strata.Training;

/// <summary>The training module's rows of the authorization table: starting and cancelling training needs train; reading jobs read.</summary>
public static class TrainingAuthorization
{
    public static RouteAuthorization Table { get; } = new()
    {
        ["POST /api/training/train"] = Permissions.Train,
        ["POST /api/training/jobs"] = Permissions.Train,
        ["GET /api/training/jobs"] = Permissions.Read,
        ["GET /api/training/jobs/{id}"] = Permissions.Read,
        ["DELETE /api/training/jobs/{id}"] = Permissions.Train,
        // The seed's /train retrains and makes the result champion: a promotion.
        ["POST /train"] = Permissions.ManageModels,
    };
}
