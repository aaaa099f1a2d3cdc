using System.ComponentModel.DataAnnotations;

namespace Strata.ServiceDefaults;

/// <summary>Process-wide settings (<c>Strata:*</c>): where embedded state lives. Each module keeps its own
/// sub-folder (<c>data/</c>, <c>registry/</c>, ...) so no two modules share storage.</summary>
public sealed class StrataOptions
{
    public const string Section = "Strata";

    [Required]
    public string DataDirectory { get; set; } = ".strata";

    /// <summary>The folder a module owns, created on first use.</summary>
    public string ModuleDirectory(string module)
    {
        var path = Path.GetFullPath(Path.Combine(DataDirectory, module));
        Directory.CreateDirectory(path);
        return path;
    }
}
