using System.ComponentModel.DataAnnotations;

namespace Strata.Data;

/// <summary><c>Strata:Data</c>: bounds on what one ingestion may bring.</summary>
public sealed class DataOptions
{
    public const string Section = "Strata:Data";

    /// <summary>The most columns a dataset may have (1,000 by default). A CSV is checked at its header, before anything
    /// is parsed: one of 20,000 columns took 20 s and 0.9 GB before it failed or succeeded (issue 24).</summary>
    [Range(1, 100_000)]
    public int MaxColumns { get; set; } = 1000;
}
