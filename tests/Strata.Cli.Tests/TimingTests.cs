namespace Strata.Cli.Tests;

/// <summary>Tests that measure time run alone within this assembly (no other test class of it at the same time).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingTests
{
    public const string Name = "timing";
}
