namespace Strata.Events.Embedded;

/// <summary>Settings of the embedded log (<c>Strata:Events:Embedded</c>).</summary>
public sealed class EmbeddedLogOptions
{
    /// <summary>A segment file is closed and a new one started past this size.</summary>
    public long SegmentBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Whole segments whose newest record is older than this are deleted.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>A message whose id was appended within this window is not appended again (publish is idempotent).</summary>
    public TimeSpan DedupWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>fsync every appended batch (survives power loss; without it, a killed process still loses nothing).</summary>
    public bool Fsync { get; set; }
}
