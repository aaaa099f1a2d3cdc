namespace Strata.ServiceDefaults.Security;

/// <summary>What a route needs and what a principal may do. A route names the permissions that admit a caller (any one
/// of them suffices); a principal holds the union of its roles' permissions (<see cref="StrataRoles"/>).</summary>
[Flags]
public enum Permissions
{
    None = 0,

    /// <summary>Reading platform state: datasets, features, runs, models, jobs, serving status; read-only queries.</summary>
    Read = 1,

    /// <summary>Scoring: <c>/predict</c>, KServe V1 predict and explain, Open Inference Protocol infer and metadata.</summary>
    Predict = 1 << 1,

    /// <summary>Ingestion, feature pushes, materialisation and applying feature definitions.</summary>
    WriteData = 1 << 2,

    /// <summary>Training jobs, experiments, runs and their artifacts (MLflow tracking writes).</summary>
    Train = 1 << 3,

    /// <summary>Registering models and versions, aliases, stages, traffic.</summary>
    ManageModels = 1 << 4,

    /// <summary>Reading the audit log and dead letters.</summary>
    ReadAudit = 1 << 5,

    /// <summary>Operating the bus: replay and redrive.</summary>
    Operate = 1 << 6,

    /// <summary>Creating, listing and revoking API keys.</summary>
    ManageKeys = 1 << 7,

    /// <summary>Service-to-service routes (the embedded broker, the key snapshot): only Strata's own processes.</summary>
    Internal = 1 << 8,

    /// <summary>Any authenticated principal (e.g. <c>whoami</c>).</summary>
    Authenticated = 1 << 9,

    /// <summary>Scraping <c>/metrics</c> (what a Prometheus key needs, and nothing else).</summary>
    ReadMetrics = 1 << 10,

    /// <summary>No credentials needed: health and the OpenAPI documents only.</summary>
    Anonymous = 1 << 30,
}
