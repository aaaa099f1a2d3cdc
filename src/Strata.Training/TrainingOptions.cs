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

    /// <summary>What a request leaves out (<c>Strata:Training:Defaults:*</c>): the dataset, feature view, label and model
    /// of the deployment's usual training. Strata itself has none; the samples set the seed's.</summary>
    public TrainingDefaults Defaults { get; set; } = new();
}

/// <summary>Values for a <see cref="Strata.Contracts.Training.TrainingRequest"/>'s unset fields.</summary>
public sealed class TrainingDefaults
{
    public string? Dataset { get; set; }

    public string? View { get; set; }

    public string? Label { get; set; }

    public string? Model { get; set; }
}
