using System.ComponentModel.DataAnnotations;

namespace Strata.Serving;

/// <summary>Serving settings (<c>Strata:Serving:*</c>): which model and alias <c>/predict</c> serves, and how often
/// the alias is re-read to pick up a new version (until the event bus pushes alias changes).</summary>
public sealed class ServingOptions
{
    public const string Section = "Strata:Serving";

    [Required, RegularExpression(@"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")]
    public string Model { get; set; } = "seed";

    [Required, RegularExpression(@"^[\w-]+$")]
    public string Alias { get; set; } = "champion";

    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Share of predictions published as <c>prediction.made</c> (0 turns the log off, 1 logs every one).</summary>
    [Range(0.0, 1.0)]
    public double PredictionLogSampleRate { get; set; } = 1.0;

    /// <summary>Records waiting to be published; beyond this they are dropped (and counted), never waited for.</summary>
    [Range(1, 1_000_000)]
    public int PredictionLogCapacity { get; set; } = 10_000;
}
