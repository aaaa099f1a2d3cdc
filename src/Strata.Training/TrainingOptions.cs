using System.ComponentModel.DataAnnotations;

namespace Strata.Training;

/// <summary>Training module settings (<c>Strata:Training:*</c>).</summary>
public sealed class TrainingOptions
{
    public const string Section = "Strata:Training";

    /// <summary>Training jobs run at once (and trainings of any kind: a forest already uses the cores, two at once only
    /// slow each other down on a small machine).</summary>
    [Range(1, 64)]
    public int MaxConcurrentJobs { get; set; } = 1;
}
