using System.ComponentModel.DataAnnotations;

namespace Strata.Registry;

/// <summary>Settings of the registry and tracking stores (<c>Strata:Registry</c>).</summary>
public sealed class RegistryOptions
{
    public const string Section = "Strata:Registry";

    /// <summary><c>sqlite</c> (default: <c>registry.db</c> and <c>tracking.db</c> in the module's data directory) or
    /// <c>postgres</c> (both stores in the database at <see cref="Postgres"/>). Artifacts stay on disk either way.</summary>
    [Required, RegularExpression("^(sqlite|postgres)$", ErrorMessage = "Strata:Registry:Store must be sqlite or postgres")]
    public string Store { get; set; } = "sqlite";

    /// <summary>Npgsql connection string, e.g. <c>Host=127.0.0.1;Port=5432;Database=strata;Username=strata</c>.</summary>
    public string? Postgres { get; set; }

    /// <summary>Largest file the MLflow artifacts service accepts in one upload (bytes; default 2 GiB). Uploads stream to
    /// disk, so memory does not grow with it.</summary>
    [Range(1, long.MaxValue)]
    public long MaxArtifactBytes { get; set; } = 2L << 30;

    /// <summary>How often running rollouts are looked at (a step is judged once its interval has passed).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RolloutTick { get; set; } = TimeSpan.FromSeconds(1);
}
