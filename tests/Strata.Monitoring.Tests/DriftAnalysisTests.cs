using Strata.Contracts.Monitoring;
using Strata.Monitoring.Drift;
using Xunit.Abstractions;

namespace Strata.Monitoring.Tests;

/// <summary>Drift with planted changes: a 0.5 σ shift in one feature over 10,000 predictions is found and attributed to
/// that feature alone; windows drawn from the training distribution raise nothing at the default thresholds (the
/// false-alarm rate measured over repeated samples); categorical shifts, unseen categories, values out of the training
/// range and schema violations are counted.</summary>
public sealed class DriftAnalysisTests(ITestOutputHelper output)
{
    private static readonly string[] Names = ["amount", "velocity", "distance", "age", "channel"];

    /// <summary>Training-like rows: four standard normal features (amount shifted by <paramref name="shift"/> σ) and a
    /// channel code 0-3 with shares 40/30/20/10 (or <paramref name="channels"/>).</summary>
    private static List<Dictionary<string, double>> Rows(int count, Random random, double shift = 0, double[]? channels = null)
    {
        channels ??= [0.4, 0.3, 0.2, 0.1];
        var rows = new List<Dictionary<string, double>>(count);
        for (var i = 0; i < count; i++)
        {
            var u = random.NextDouble();
            var channel = 0;
            for (var c = 0; u > channels[c] && c < channels.Length - 1; c++)
            {
                u -= channels[c];
                channel = c + 1;
            }
            rows.Add(new Dictionary<string, double>
            {
                ["amount"] = Normal(random) + shift, ["velocity"] = Normal(random), ["distance"] = Normal(random), ["age"] = Normal(random), ["channel"] = channel,
            });
        }
        return rows;
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static ModelBaseline Baseline(List<Dictionary<string, double>> training) =>
        new(training.Count, [.. Names.Select(n => DistributionProfile.Of(n, [.. training.Select(r => r[n])]))],
            DistributionProfile.Of("score", [.. training.Select(Score)]));

    private static double Score(Dictionary<string, double> row) => 1 / (1 + Math.Exp(-row["amount"] - (0.5 * row["velocity"])));

    private static List<ServedRow> Served(List<Dictionary<string, double>> rows) => [.. rows.Select(r => new ServedRow(Score(r), r))];

    [Fact]
    public void HalfSigmaShift_InOneFeature_IsDetected_AndAttributedToIt()
    {
        var random = new Random(1);
        var baseline = Baseline(Rows(5000, random));
        var drift = DriftAnalysis.Analyze("3", Served(Rows(10_000, random, shift: 0.5)), baseline, new DriftThresholds());

        Assert.True(drift.Baseline);
        Assert.Equal(["amount"], drift.Drifted);
        var amount = drift.Features.Single(f => f.Name == "amount");
        output.WriteLine($"amount: PSI {amount.Psi:F4}, KS {amount.Ks:F4}, p {amount.PValue:E2}; mean {amount.Mean:F3} against {amount.BaselineMean:F3}");
        Assert.InRange(amount.Psi!.Value, 0.15, 0.4);
        Assert.InRange(amount.Ks!.Value, 0.15, 0.25);
        Assert.True(amount.PValue < 1e-12);
        Assert.All(drift.Features.Where(f => f.Name != "amount"), f => Assert.True(f.Psi < 0.01 && !f.Drifted, $"{f.Name}: PSI {f.Psi}, p {f.PValue}"));
        // The score depends on amount: it moved too.
        Assert.True(drift.Score!.Drifted, $"score PSI {drift.Score.Psi}");
        Assert.Equal(DistributionProfile.Categorical, drift.Features.Single(f => f.Name == "channel").Kind);
        Assert.Equal(new DataQuality(0, 0, drift.Quality.OutOfRange, 0), drift.Quality);
    }

    [Fact]
    public void SameDistribution_RaisesNothing_FalseAlarmRateMeasured()
    {
        var random = new Random(2);
        var baseline = Baseline(Rows(5000, random));
        const int Checks = 200;
        var alarms = 0;
        var largestPsi = 0.0;
        for (var i = 0; i < Checks; i++)
        {
            var drift = DriftAnalysis.Analyze("1", Served(Rows(10_000, random)), baseline, new DriftThresholds());
            alarms += drift.Drifted.Count > 0 ? 1 : 0;
            largestPsi = Math.Max(largestPsi, drift.Features.Max(f => f.Psi ?? 0));
        }
        output.WriteLine($"false alarms: {alarms} of {Checks} checks of 10,000 predictions x 5 features; largest PSI {largestPsi:F4} (threshold 0.1)");
        // Bonferroni at alpha 0.01 bounds the rate at 1% per check from the test alone; the PSI floor makes it rarer still.
        Assert.Equal(0, alarms);
    }

    [Fact]
    public void CategoricalShift_UnseenCategories_OutOfRange_AndSchemaViolations_AreCounted()
    {
        var random = new Random(3);
        var baseline = Baseline(Rows(5000, random));
        var window = Rows(4000, random, channels: [0.1, 0.2, 0.3, 0.4]);
        window[0]["channel"] = 7;          // never seen in training
        window[1]["velocity"] = 1e6;       // far outside the training range
        window[2]["age"] = double.NaN;     // missing
        window[3].Remove("distance");      // the schema changed
        var served = Served(window);
        served.Add(new ServedRow(0.5, null));
        var drift = DriftAnalysis.Analyze("2", served, baseline, new DriftThresholds());

        var channel = drift.Features.Single(f => f.Name == "channel");
        Assert.True(channel.Drifted);
        Assert.True(channel.ChiSquare > 100 && channel.PValue < 1e-12 && channel.JensenShannon > 0.1, $"chi2 {channel.ChiSquare}, JS {channel.JensenShannon}");
        Assert.Equal(1, channel.UnseenCategories);
        Assert.Equal(2, drift.Quality.SchemaViolations);
        Assert.True(drift.Quality.OutOfRange >= 1);
        Assert.True(drift.Features.Single(f => f.Name == "velocity").OutOfRange >= 1);
        Assert.Equal(2, drift.Quality.MissingValues); // the NaN and the removed feature
        Assert.Equal(["channel"], drift.Drifted);
    }

    [Fact]
    public void SmallWindow_IsReported_NeverFlagged_AndNoBaseline_GivesQualityOnly()
    {
        var random = new Random(4);
        var baseline = Baseline(Rows(2000, random));
        var small = DriftAnalysis.Analyze("1", Served(Rows(50, random, shift: 3)), baseline, new DriftThresholds());
        Assert.Empty(small.Drifted);
        Assert.True(small.Features.Single(f => f.Name == "amount").Psi > 1);

        var none = DriftAnalysis.Analyze("1", [new ServedRow(0.2, new Dictionary<string, double> { ["x"] = double.NaN }), new ServedRow(0.3, null)], null, new DriftThresholds());
        Assert.False(none.Baseline);
        Assert.Empty(none.Features);
        Assert.Equal(new DataQuality(1, 1, 0, 0), none.Quality);
    }

    [Fact]
    public void Statistics_MatchTheirDefinitions()
    {
        // PSI of identical shares is 0; of (0.5, 0.5) against (0.9, 0.1): 0.4 ln(0.5/0.9) ... by hand.
        Assert.Equal(0, DriftAnalysis.Psi([0.25, 0.75], [0.25, 0.75]), 12);
        Assert.Equal((0.5 - 0.9) * Math.Log(0.5 / 0.9) + (0.5 - 0.1) * Math.Log(0.5 / 0.1), DriftAnalysis.Psi([0.5, 0.5], [0.9, 0.1]), 12);
        // Jensen-Shannon distance: 0 for equal, 1 for disjoint.
        Assert.Equal(0, DriftAnalysis.JensenShannon([0.5, 0.5], [0.5, 0.5]), 12);
        Assert.Equal(1, DriftAnalysis.JensenShannon([1, 0], [0, 1]), 12);
        // Chi-square of a 2 x 2 table with one degree of freedom: (10, 20) vs (20, 10) -> 6.667, p = 0.00982.
        var (chi, p) = DriftAnalysis.ChiSquare([10, 20], [20, 10]);
        Assert.Equal(6.6667, chi, 3);
        Assert.Equal(0.00982, p, 4);
        // Kolmogorov: the 5% critical value 1.358 / sqrt(n) for large n.
        Assert.Equal(0.05, DriftAnalysis.KolmogorovPValue(1.358 / Math.Sqrt(1e6), 1e6), 3);
    }
}
