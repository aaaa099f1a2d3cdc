namespace Strata.Cli.Tests;

/// <summary>A seeded monolith on real Kestrel (127.0.0.1, free port) with serving's defaults (every prediction logged,
/// aliases re-read every 100 ms), shared by a test class.</summary>
public sealed class MonolithFixture : ServingFixture
{
    protected override IDictionary<string, string?> Serving => new Dictionary<string, string?>();
}
