using Strata.Contracts.Registry;
using Strata.Registry.Experiments;

namespace Strata.Registry.Tests;

/// <summary>The experiment statistics, verified by simulation (issue 20): reading the results after every 200 exposures
/// per arm, an A/A test is called significant in at most α of the runs; a planted lift is found; the sample-ratio check
/// flags a broken split and not a fair one.</summary>
public sealed class ExperimentStatisticsTests
{
    private static readonly ExperimentSpec Spec = new ExperimentSpec
    {
        Model = "m",
        Arms = [new() { Name = "control", Target = TrafficTarget.OfVersion(1), Weight = 50 }, new() { Name = "treatment", Target = TrafficTarget.OfVersion(2), Weight = 50 }],
        Sticky = new() { Key = "user_id" },
        MinSamples = 1000,
    }.Normalized();

    /// <summary>The share of simulated experiments (conversion rates <paramref name="control"/> and
    /// <paramref name="treatment"/>) called significant at any of 30 looks of 200 exposures per arm.</summary>
    private static double SignificantShare(double control, double treatment, int runs, int seed)
    {
        var random = new Random(seed);
        var significant = 0;
        for (var run = 0; run < runs; run++)
        {
            long n = 0, conversionsA = 0, conversionsB = 0;
            for (var look = 0; look < 30; look++)
            {
                for (var i = 0; i < 200; i++)
                {
                    n++;
                    conversionsA += random.NextDouble() < control ? 1 : 0;
                    conversionsB += random.NextDouble() < treatment ? 1 : 0;
                }
                var results = ExperimentStatistics.Compare(Spec,
                [
                    ("control", 1, 50, n, conversionsA, ExperimentStatistics.PerExposure(n, conversionsA, conversionsA)),
                    ("treatment", 2, 50, n, conversionsB, ExperimentStatistics.PerExposure(n, conversionsB, conversionsB)),
                ]);
                if (results[1].Significant)
                {
                    significant++;
                    break;
                }
            }
        }
        return significant / (double)runs;
    }

    [Fact]
    public void NoTrueDifference_FalsePositivesStayAtAlpha_DespiteThirtyLooks()
    {
        var share = SignificantShare(0.10, 0.10, runs: 1000, seed: 17);
        Assert.True(share <= 0.05, $"{share:P1} of A/A experiments were called significant");
    }

    [Fact]
    public void PlantedLift_IsDetected()
    {
        var share = SignificantShare(0.10, 0.13, runs: 200, seed: 19);
        Assert.True(share >= 0.8, $"a 10% -> 13% lift was found in only {share:P0} of experiments of up to 6,000 exposures per arm");
    }

    [Fact]
    public void SampleRatio_FlagsABrokenSplit_NotAFairOne()
    {
        Assert.False(ExperimentStatistics.SampleRatio([5_030, 4_970], [50, 50]).Mismatch);
        var broken = ExperimentStatistics.SampleRatio([5_500, 4_500], [50, 50]);
        Assert.True(broken.Mismatch && broken.ChiSquare == 100, $"chi-square {broken.ChiSquare}, p {broken.PValue}");
        Assert.False(ExperimentStatistics.SampleRatio([9_020, 980], [90, 10]).Mismatch);
    }

    [Theory]
    [InlineData(3.841459, 1, 0.05)]
    [InlineData(5.991465, 2, 0.05)]
    [InlineData(6.634897, 1, 0.01)]
    [InlineData(18.307038, 10, 0.05)]
    [InlineData(0.454936, 1, 0.5)]
    public void ChiSquareSurvival_MatchesTheTables(double x, int df, double p) =>
        Assert.Equal(p, ExperimentStatistics.ChiSquareSurvival(x, df), 5);
}
