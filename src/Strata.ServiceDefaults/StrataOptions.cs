using System.ComponentModel.DataAnnotations;

namespace Strata.ServiceDefaults;

/// <summary>Process-wide settings (<c>Strata:*</c>): where embedded state lives. Each module keeps its own
/// sub-folder (<c>data/</c>, <c>registry/</c>, ...) so no two modules share storage.</summary>
public sealed class StrataOptions
{
    public const string Section = "Strata";

    [Required]
    public string DataDirectory { get; set; } = ".strata";

    /// <summary>Which replica of its module this process is: 1, unless <c>strata up --replicas</c> runs several. A
    /// consumer every replica must run for itself (not share with the others, as competing consumers do) names its
    /// event group with <see cref="PerReplica"/>.</summary>
    [Range(1, 64)]
    public int Replica { get; set; } = 1;

    /// <summary><paramref name="name"/> for the first replica, <c>name-N</c> for replica N.</summary>
    public string PerReplica(string name) => Replica <= 1 ? name : $"{name}-{Replica}";

    /// <summary>The folder a module owns, created on first use.</summary>
    public string ModuleDirectory(string module)
    {
        var path = Path.GetFullPath(Path.Combine(DataDirectory, module));
        Directory.CreateDirectory(path);
        return path;
    }
}
