using System.Net.Http.Json;
using System.Text.Json;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary><c>strata monitor</c> against a seeded monolith, run as the real executable: after served predictions whose
/// income is far above training's, the table and the JSON show income drifted for the champion.</summary>
public sealed class MonitorCommandTests(MonolithFixture fixture) : IClassFixture<MonolithFixture>
{
    private async Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args) =>
        await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), fixture.CliEnvironment, [.. args, "--url", fixture.Http.BaseAddress!.ToString()]);

    [Fact]
    public async Task Monitor_ShowsDriftPerFeature_AsTableAndJson()
    {
        var random = new Random(9);
        for (var i = 0; i < 150; i++)
        {
            using var response = await fixture.Http.PostAsJsonAsync(new Uri("/predict", UriKind.Relative), new { age = random.Next(18, 81), income = random.Next(300_000, 900_001) });
            response.EnsureSuccessStatusCode();
        }
        JsonElement v1 = default;
        await Eventually.ValueAsync(async () =>
        {
            var (exit, stdout, stderr) = await RunAsync("monitor", "seed", "--window", "1h", "--json");
            Assert.True(exit == 0, stderr);
            v1 = JsonDocument.Parse(stdout).RootElement.GetProperty("drift").EnumerateArray().Single(v => v.GetProperty("version").GetString() == "1").Clone();
            return v1.GetProperty("predictions").GetInt64();
        }, n => n >= 150, TimeSpan.FromSeconds(30), "the predictions recorded");
        Assert.Contains("income", v1.GetProperty("drifted").EnumerateArray().Select(e => e.GetString()));

        var (code, table, error) = await RunAsync("monitor", "seed", "--window", "1h", "--wide");
        Assert.True(code == 0, error);
        Assert.Contains("drifted: income", table, StringComparison.Ordinal);
        Assert.Contains("PSI", table, StringComparison.Ordinal);

        (code, _, error) = await RunAsync("monitor", "seed", "--window", "soon");
        Assert.NotEqual(0, code);
        Assert.Contains("--window", error, StringComparison.Ordinal);
    }
}
