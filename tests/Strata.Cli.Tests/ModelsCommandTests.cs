using System.Text.Json;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary><c>strata models ls|show|alias</c> against a seeded monolith, run as the real executable.</summary>
public sealed class ModelsCommandTests(MonolithFixture fixture) : IClassFixture<MonolithFixture>
{
    private string Url => fixture.Http.BaseAddress!.ToString();

    private async Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args) =>
        await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), fixture.CliEnvironment, [.. args, "--url", Url]);

    [Fact]
    public async Task Ls_ListsTheSeedModelWithItsChampion_AsTableAndJson()
    {
        var (exit, stdout, stderr) = await RunAsync("models", "ls", "--json");
        Assert.True(exit == 0, stderr);
        var seed = JsonDocument.Parse(stdout).RootElement.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "seed");
        Assert.Equal(1, seed.GetProperty("aliases").GetProperty("champion").GetInt32());

        (exit, stdout, stderr) = await RunAsync("models", "ls");
        Assert.True(exit == 0, stderr);
        Assert.Contains("seed", stdout, StringComparison.Ordinal);
        Assert.Contains("champion=v1", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_ListsVersions_AndOneVersionInFull_ByVersionOrAlias()
    {
        var (exit, stdout, stderr) = await RunAsync("models", "show", "seed", "--json");
        Assert.True(exit == 0, stderr);
        var versions = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(1, versions[0].GetProperty("version").GetInt32());

        (exit, stdout, stderr) = await RunAsync("models", "show", "seed");
        Assert.True(exit == 0, stderr);
        Assert.Contains("auc", stdout, StringComparison.Ordinal);

        (exit, stdout, stderr) = await RunAsync("models", "show", "seed", "--alias", "champion", "--json");
        Assert.True(exit == 0, stderr);
        var champion = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal((1, "seed_features"), (champion.GetProperty("version").GetInt32(), champion.GetProperty("feature_view").GetString()));

        (exit, stdout, stderr) = await RunAsync("models", "show", "seed", "--version", "1");
        Assert.True(exit == 0, stderr);
        Assert.Contains("feature view", stdout, StringComparison.Ordinal);
        Assert.Contains("trees", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alias_PointsAnAliasAtAVersion()
    {
        var (exit, stdout, stderr) = await RunAsync("models", "alias", "seed", "challenger", "1");
        Assert.True(exit == 0, stderr);
        Assert.Contains("challenger -> version 1", stdout, StringComparison.Ordinal);
        using var alias = await fixture.Http.GetAsync(new Uri("api/registry/models/seed/aliases/challenger", UriKind.Relative));
        Assert.Equal(1, JsonDocument.Parse(await alias.Content.ReadAsStringAsync()).RootElement.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Alias_Delete_RemovesTheAlias_ASecondDeleteExitsOne()
    {
        var (exit, _, stderr) = await RunAsync("models", "alias", "seed", "to-remove", "1");
        Assert.True(exit == 0, stderr);

        (exit, var stdout, stderr) = await RunAsync("models", "alias", "seed", "to-remove", "--delete");
        Assert.True(exit == 0, stderr);
        Assert.Contains("to-remove removed", stdout, StringComparison.Ordinal);
        using (var gone = await fixture.Http.GetAsync(new Uri("api/registry/models/seed/aliases/to-remove", UriKind.Relative)))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
        }
        (exit, _, stderr) = await RunAsync("models", "alias", "seed", "to-remove", "--delete");
        Assert.Equal(1, exit);
        Assert.Contains("does not exist", stderr, StringComparison.Ordinal);
    }

    /// <summary>Usage errors exit 2 before anything is sent; what the registry refuses exits 1 with its reason.</summary>
    [Theory]
    [InlineData(1, "does not exist", "models", "show", "nope")]
    [InlineData(1, "does not exist", "models", "show", "seed", "--version", "99")]
    [InlineData(1, "does not exist", "models", "show", "seed", "--alias", "nobody")]
    [InlineData(2, "cannot be used together", "models", "show", "seed", "--version", "1", "--alias", "champion")]
    [InlineData(2, "--version", "models", "show", "seed", "--version", "0")]
    [InlineData(1, "reserved", "models", "alias", "seed", "latest", "1")]
    [InlineData(1, "99", "models", "alias", "seed", "champion", "99")]
    [InlineData(2, "one", "models", "alias", "seed", "champion", "one")]
    [InlineData(2, "not both", "models", "alias", "seed", "champion", "1", "--delete")]
    [InlineData(2, "not both", "models", "alias", "seed", "champion")]
    public async Task BadInput_ExitsNonZeroWithAReason_AndChangesNothing(int code, string reason, params string[] args)
    {
        var (exit, _, stderr) = await RunAsync(args);

        Assert.Equal(code, exit);
        Assert.Contains(reason, stderr, StringComparison.Ordinal);
        using var champion = await fixture.Http.GetAsync(new Uri("api/registry/models/seed/aliases/champion", UriKind.Relative));
        Assert.Equal(1, JsonDocument.Parse(await champion.Content.ReadAsStringAsync()).RootElement.GetProperty("version").GetInt32());
    }
}
