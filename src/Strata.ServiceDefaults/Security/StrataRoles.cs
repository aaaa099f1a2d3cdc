namespace Strata.ServiceDefaults.Security;

/// <summary>The roles a key or token can hold and the permissions each grants. <see cref="Service"/> is Strata's own
/// processes calling each other; it cannot be given to a key.</summary>
public static class StrataRoles
{
    public const string Reader = "reader";
    public const string Predictor = "predictor";
    public const string DataWriter = "data-writer";
    public const string Trainer = "trainer";
    public const string ModelAdmin = "model-admin";
    public const string Admin = "admin";
    public const string Metrics = "metrics";
    public const string Service = "service";

    private const Permissions Everything = Permissions.Read | Permissions.Predict | Permissions.WriteData | Permissions.Train
        | Permissions.ManageModels | Permissions.ReadAudit | Permissions.Operate | Permissions.ManageKeys | Permissions.ReadMetrics | Permissions.Authenticated;

    /// <summary>Every role a key or token may hold, with its permissions, in the order the docs list them.</summary>
    public static IReadOnlyDictionary<string, Permissions> Grantable { get; } = new Dictionary<string, Permissions>(StringComparer.Ordinal)
    {
        [Reader] = Permissions.Read | Permissions.ReadMetrics | Permissions.Authenticated,
        [Predictor] = Permissions.Predict | Permissions.Authenticated,
        [DataWriter] = Permissions.Read | Permissions.WriteData | Permissions.Authenticated,
        [Trainer] = Permissions.Read | Permissions.Train | Permissions.Authenticated,
        [ModelAdmin] = Permissions.Read | Permissions.Predict | Permissions.Train | Permissions.ManageModels | Permissions.Authenticated,
        [Admin] = Everything,
        // A scraper's key: the metrics of every process, no data.
        [Metrics] = Permissions.ReadMetrics | Permissions.Authenticated,
    };

    /// <summary>The union of the roles' permissions; unknown role names grant nothing.</summary>
    public static Permissions PermissionsOf(IEnumerable<string> roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var permissions = Permissions.None;
        foreach (var role in roles)
        {
            if (role == Service)
            {
                permissions |= Everything | Permissions.Internal;
            }
            else if (Grantable.TryGetValue(role, out var granted))
            {
                permissions |= granted;
            }
        }
        return permissions;
    }

    /// <summary>The permission names of a set (<c>read, train</c>), for errors and <c>whoami</c>.</summary>
    public static IReadOnlyList<string> Names(Permissions permissions) =>
        [.. Enum.GetValues<Permissions>().Where(p => p is not Permissions.None and not Permissions.Anonymous && permissions.HasFlag(p)).Select(Name)];

    public static string Name(Permissions permission) => permission switch
    {
        Permissions.Read => "read",
        Permissions.Predict => "predict",
        Permissions.WriteData => "write-data",
        Permissions.Train => "train",
        Permissions.ManageModels => "manage-models",
        Permissions.ReadAudit => "read-audit",
        Permissions.Operate => "operate",
        Permissions.ManageKeys => "manage-keys",
        Permissions.Internal => "internal",
        Permissions.Authenticated => "authenticated",
        Permissions.ReadMetrics => "read-metrics",
        Permissions.Anonymous => "anonymous",
        _ => string.Join(" or ", Names(permission)),
    };
}
