using System.Globalization;
using System.Text;

namespace Strata.Samples;

/// <summary>The seed example's training data: <c>age, income, target</c>, where the target follows
/// <c>income / age &gt; 2500</c> with 10% label noise, plus the seed's dirty rows (every 500th row misses its age,
/// every 777th has age -1) for the cleaning rules to remove. Deterministic for a given seed.</summary>
public static class SampleDataset
{
    public const string Name = "seed";

    public static string Csv(int rows = 20_000, int seed = 42)
    {
        var random = new Random(seed);
        var csv = new StringBuilder(rows * 16);
        csv.Append("age,income,target\n");
        for (var i = 0; i < rows; i++)
        {
            var age = random.Next(18, 81);
            var income = random.Next(10_000, 200_001);
            var target = (income / (double)age > 2500) != (random.NextDouble() < 0.1) ? 1 : 0;
            if (i % 500 == 0)
            {
                csv.Append(CultureInfo.InvariantCulture, $",{income},{target}\n");
            }
            else if (i % 777 == 0)
            {
                csv.Append(CultureInfo.InvariantCulture, $"-1,{income},{target}\n");
            }
            else
            {
                csv.Append(CultureInfo.InvariantCulture, $"{age},{income},{target}\n");
            }
        }
        return csv.ToString();
    }
}
