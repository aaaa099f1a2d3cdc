namespace Strata.ServiceDefaults.Security;

/// <summary>Endpoint metadata: what the route needs (from the authorization table), and whether a request to it changes
/// state and so is written to the audit log.</summary>
/// <param name="Required">Any one of these admits the caller; <see cref="Permissions.Anonymous"/> admits everyone.</param>
/// <param name="Route">The table key, for audit records and errors.</param>
/// <param name="Listed">False when the route is missing from the table: then nobody is admitted.</param>
public sealed record AccessRule(Permissions Required, string Route, bool Listed = true)
{
    private const Permissions StateChanging = Permissions.WriteData | Permissions.Train | Permissions.ManageModels | Permissions.Operate | Permissions.ManageKeys;

    public static AccessRule AnonymousRule { get; } = new(Permissions.Anonymous, "anonymous");

    public bool IsAnonymous => Required.HasFlag(Permissions.Anonymous);

    /// <summary>Requests that change state (every route needing a write permission) are audited.</summary>
    public bool Audited => (Required & StateChanging) != 0;
}
