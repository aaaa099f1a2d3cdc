using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Features.Definitions;
using Strata.Samples;
using Strata.Testing;

namespace Strata.Features.Tests;

/// <summary>Definitions as data: files read with every error named (file, definition, field), versions applied all or
/// nothing and persisted, the export applying back as a no-op, and a stored view's layout kept for its name's life.</summary>
public sealed class FeatureDefinitionsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private const string Minimal = """
        entities:
          - name: patient
            join_keys: [{name: patient_id, type: int64}]
        sources:
          - name: scans
            entity: patient
            dataset: breast_cancer
            timestamp_column: ts
            columns:
              - {name: radius, type: float64}
              - {name: texture, type: float64}
        feature_views:
          - name: scan
            source: scans
            ttl: 365d
            tags: {team: oncology}
          - name: scan_ratios
            kind: on_demand
            sources: [scan]
            inputs: [{name: radius}, {name: texture}]
            features:
              - {name: ratio, expression: radius / texture}
        feature_services:
          - name: diagnosis
            features: [scan, scan_ratios:ratio]
        """;

    private static FeatureDefinitionSet Read(params (string Name, string Content)[] files) =>
        DefinitionReader.Read(files.Select(f => new DefinitionFile(f.Name, f.Content)));

    private static IReadOnlyList<DefinitionError> Errors(params (string Name, string Content)[] files) =>
        Assert.Throws<InvalidDefinitionsException>(() =>
        {
            var set = Read(files);
            _ = new Store.FeatureRepository(set, 1);
        }).Errors;

    private FeatureDefinitions Open(IEnumerable<InitialFeatureDefinitions>? initial = null) =>
        new(Path.Combine(_folder.Path, "definitions"), initial ?? [], EmbeddedBus.Create(Path.Combine(_folder.Path, "bus")), null, TimeProvider.System,
            NullLogger<FeatureDefinitions>.Instance);

    [Fact]
    public void Read_AFileWithEveryKind_ResolvesViewsAndServices()
    {
        var repository = new Store.FeatureRepository(Read(("repo.yaml", Minimal)), 1);
        var scan = repository.ViewInfo("scan")!;
        Assert.Equal("patient", scan.Entity);
        Assert.Equal(["radius", "texture"], scan.Features.Select(f => f.Name));
        Assert.Equal(365 * 86400, scan.TtlSeconds);
        Assert.Equal("oncology", scan.Tags!["team"]);
        Assert.Equal("dataset", repository.FindSource("scans")!.Kind);
        Assert.Equal("ts", repository.FindSource("scans")!.TimestampColumn);
        Assert.Equal(["scan:radius", "scan:texture", "scan_ratios:ratio"], repository.ServiceInfo(repository.FindService("diagnosis")!).FeatureRefs);
        Assert.Equal([0.5], repository.FindOnDemand("scan_ratios")!.Compute([1, 2]));
    }

    [Theory]
    [InlineData("type: int65", "join_keys[0].type", "not a type")]
    [InlineData("tll: 1d", "tll", "not a field")]
    [InlineData("ttl: soon", "ttl", "not a duration")]
    [InlineData("source: nowhere", "source", "unknown source 'nowhere'")]
    [InlineData("expression: radius.Length", "features[0].expression", "'.'")]
    [InlineData("expression: Process.Start(1)", "features[0].expression", "'.'")]
    [InlineData("expression: exec(radius)", "features[0].expression", "not a function")]
    [InlineData("expression: (radius", "features[0].expression", "')'")]
    [InlineData("sources: [scan_ratios]", "sources", "on-demand view")]
    [InlineData("name: scan", "name", "declared twice")]
    [InlineData("name: 9lives", "name", "not a name")]
    [InlineData("kind: streaming", "kind", "stored, aggregate or on_demand")]
    public void Read_ABadDefinition_IsNamedByFileDefinitionAndField(string mutation, string field, string reason)
    {
        var text = Mutate(Minimal, mutation);
        var errors = Errors(("team/repo.yaml", text));
        Assert.Contains(errors, e => e.File == "team/repo.yaml" && e.Definition is not null && e.Field == field && e.Reason.Contains(reason, StringComparison.Ordinal));
    }

    /// <summary>Applies a one-line change to <see cref="Minimal"/> where it belongs.</summary>
    private static string Mutate(string text, string mutation)
    {
        var key = mutation[..mutation.IndexOf(':', StringComparison.Ordinal)];
        return key switch
        {
            "type" => text.Replace("type: int64}", mutation + "}", StringComparison.Ordinal),
            "tll" or "ttl" => text.Replace("    ttl: 365d", "    " + mutation, StringComparison.Ordinal),
            "source" => text.Replace("    source: scans", "    " + mutation, StringComparison.Ordinal),
            "expression" => text.Replace("expression: radius / texture", mutation, StringComparison.Ordinal),
            "sources" => text.Replace("sources: [scan]", mutation, StringComparison.Ordinal),
            "name" => text.Replace("  - name: scan_ratios", "  - " + mutation, StringComparison.Ordinal),
            "kind" => text.Replace("    kind: on_demand", "    " + mutation, StringComparison.Ordinal),
            _ => throw new ArgumentException(mutation),
        };
    }

    [Fact]
    public void Read_ManyErrors_AreAllReported_AcrossFiles()
    {
        // Every file is read and every error of reading reported at once...
        var errors = Errors(("a.yaml", "entities:\n  - name: e\n    join_keys: [{name: k, type: decimal}]\n"),
            ("c.yaml", "oops: 1\n"),
            ("d.yaml", "entities: [\n"));
        Assert.Contains(errors, e => e.File == "a.yaml" && e.Field == "join_keys[0].type");
        Assert.Contains(errors, e => e.File == "c.yaml" && e.Field == "oops");
        Assert.Contains(errors, e => e.File == "d.yaml" && e.Reason.Contains("not valid YAML at line", StringComparison.Ordinal));
        // ...then, when they read, every error of consistency, each under the file that declared it.
        errors = Errors(("a.yaml", "entities:\n  - name: e\n    join_keys: [{name: k, type: float64}]\n"),
            ("b.yaml", "sources:\n  - {name: s, entity: nobody, columns: [{name: x, type: int64}]}\nfeature_views:\n  - {name: v, source: s, entity: e, features: [y]}\n"));
        Assert.Contains(errors, e => e is { File: "a.yaml", Definition: "entity 'e'", Field: "join_keys" });
        Assert.Contains(errors, e => e is { File: "b.yaml", Definition: "source 's'", Field: "entity" });
        Assert.Contains(errors, e => e is { File: "b.yaml", Definition: "feature_view 'v'", Field: "features" });
    }

    [Fact]
    public void Read_AnchorsAndAliases_AreRefused()
    {
        // The "billion laughs" shape: each alias would double the document.
        var yaml = new StringBuilder("a: &a [x, x]\n");
        for (var i = 1; i < 30; i++)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"a{i}: &a{i} [*{(i == 1 ? "a" : "a" + (i - 1))}, *{(i == 1 ? "a" : "a" + (i - 1))}]\n");
        }
        var errors = Errors(("bomb.yaml", yaml.ToString()));
        Assert.Contains(errors, e => e.Reason.Contains("aliases", StringComparison.Ordinal));
    }

    [Fact]
    public void Samples_WriteAndReadBack_ToTheSameCanonicalForm()
    {
        var written = DefinitionWriter.Write(SampleFeatureRepository.Definitions);
        var again = DefinitionWriter.Write(DefinitionReader.Read("export", JsonNode.Parse(written.ToJsonString())));
        Assert.True(JsonNode.DeepEquals(written, again), written.ToJsonString());
        // The seed view's version (a hash of its meaning) is what it was when the seed was C#: models trained before read on.
        Assert.Equal("(income / age)", SampleFeatureRepository.SeedFeatures.Info.Features[3].Expression!.ToString());
    }

    [Fact]
    public async Task Apply_VersionsPersist_AndTheExportAppliesBackAsANoOp()
    {
        using (var definitions = Open([new InitialFeatureDefinitions(SampleFeatureRepository.Files, "samples")]))
        {
            Assert.Equal(1, definitions.Version);
            var plan = await definitions.PlanAsync(Read(("repo.yaml", Minimal)), default);
            Assert.False(plan.Applied);
            Assert.Contains(plan.Changes, c => c is { Kind: "feature_view", Name: "scan", Change: "added" });
            Assert.Contains(plan.Changes, c => c is { Kind: "feature_view", Name: "seed_features", Change: "removed", Breaking: true });
            Assert.Equal(1, definitions.Version); // a plan changes nothing

            var applied = await definitions.ApplyAsync(Read(("repo.yaml", Minimal)), force: false, "patients", default);
            Assert.True(applied.Applied);
            Assert.Equal(2, applied.Version);
            Assert.Null(definitions.Current.FindView("card_stats"));

            var export = definitions.Export();
            var again = await definitions.ApplyAsync(DefinitionReader.Read("export", JsonNode.Parse(export.ToJsonString())), force: false, null, default);
            Assert.False(again.Applied);
            Assert.Empty(again.Changes);
            Assert.Equal(2, definitions.Version);
        }
        using var reopened = Open([new InitialFeatureDefinitions(SampleFeatureRepository.Files, "samples")]);
        Assert.Equal(2, reopened.Version);
        Assert.NotNull(reopened.Current.FindView("scan"));
        Assert.Equal([2L, 1L], reopened.Versions().Select(v => v.Version));
        // A model keeps the definitions it was trained with: the seed view of version 1 is still found by its hash.
        var seed = SampleFeatureRepository.SeedFeatures.Info;
        Assert.Equal(seed.Features.Count, reopened.FindView("seed_features", seed.Version)!.Features.Count);
    }

    [Fact]
    public async Task Apply_Invalid_ChangesNothing()
    {
        using var definitions = Open([new InitialFeatureDefinitions(SampleFeatureRepository.Files, "samples")]);
        var files = Directory.GetFiles(Path.Combine(_folder.Path, "definitions"));
        Assert.Throws<InvalidDefinitionsException>(() => Read(("bad.yaml", Mutate(Minimal, "source: nowhere"))) is var set
            ? definitions.ApplyAsync(set, false, null, default).GetAwaiter().GetResult() : null);
        Assert.Equal(1, definitions.Version);
        Assert.Equal(files, Directory.GetFiles(Path.Combine(_folder.Path, "definitions")));
    }

    [Fact]
    public async Task Apply_ANewLayoutUnderAnOldName_IsRefused_EvenAfterTheViewWasRemoved()
    {
        using var definitions = Open();
        await definitions.ApplyAsync(Read(("repo.yaml", Minimal)), false, null, default);
        var retyped = Minimal.Replace("{name: texture, type: float64}", "{name: texture, type: int64}", StringComparison.Ordinal);
        var error = await Assert.ThrowsAsync<InvalidDefinitionsException>(() => definitions.ApplyAsync(Read(("repo.yaml", retyped)), false, null, default));
        Assert.Contains(error.Errors, e => e is { Definition: "feature_view 'scan'", Field: "features" } && e.Reason.Contains("new view", StringComparison.Ordinal));

        // Removed, then declared again with another layout: still refused (rows of the old layout may be stored).
        var withoutScan = Minimal[..Minimal.IndexOf("  - name: scan\n", StringComparison.Ordinal)] + "feature_views: []\n";
        withoutScan = withoutScan.Replace("feature_views:\nfeature_views: []", "feature_views: []", StringComparison.Ordinal);
        await definitions.ApplyAsync(Read(("repo.yaml", withoutScan)), false, null, default);
        await Assert.ThrowsAsync<InvalidDefinitionsException>(() => definitions.ApplyAsync(Read(("repo.yaml", retyped)), false, null, default));
        // The same layout comes back, and a new column under a new name is a new view.
        await definitions.ApplyAsync(Read(("repo.yaml", Minimal)), false, null, default);
        Assert.NotNull(definitions.Current.FindView("scan"));
    }

    [Fact]
    public async Task Apply_AHundredViews_AllTakeEffect_AndTheChangeIsSignalled()
    {
        var yaml = new StringBuilder("entities:\n  - {name: e, join_keys: [{name: id, type: string}]}\nsources:\n");
        for (var i = 0; i < 100; i++)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"  - {{name: s{i}, entity: e, columns: [{{name: a, type: float64}}, {{name: b, type: float64}}]}}\n");
        }
        yaml.Append("feature_views:\n");
        for (var i = 0; i < 100; i++)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"  - {{name: v{i}, source: s{i}, ttl: 1d}}\n");
        }
        using var definitions = Open();
        var changed = definitions.NextChange();
        var result = await definitions.ApplyAsync(Read(("hundred.yaml", yaml.ToString())), false, null, default);
        Assert.Equal(201, result.Changes.Count);
        Assert.True(changed.IsCompleted);
        Assert.Equal(100, definitions.Current.Views.Count);
    }
}
