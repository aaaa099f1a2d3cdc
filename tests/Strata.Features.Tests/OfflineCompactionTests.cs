using DuckDB.NET.Data;
using Strata.Contracts.Features;
using Strata.Features.Offline;
using Strata.Features.Views;
using Strata.Testing;
using Strata.Samples;

namespace Strata.Features.Tests;

/// <summary>Every push writes a file; compaction keeps a view's file count bounded without changing any answer, never
/// pulls a file from under a running read, and recovers from a crash in the middle.</summary>
public sealed class OfflineCompactionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);

    private static PushRequest Profile(string card, DateTimeOffset at, double limit) => new("card_profiles", FeatureStoreTests.Columns(
        ("card_id", [card]), ("event_timestamp", [at.ToString("O")]), ("credit_limit", [limit]), ("account_age_days", [1L]),
        ("country", ["DE"]), ("is_business", [false])), PushTargets.Offline);

    private static long Count(string tableSql)
    {
        using var db = new DuckDBConnection("Data Source=:memory:");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {tableSql}";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task ManySmallPushes_AreCompacted_AndEveryAnswerStaysTheSame()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var offline = modules.Get<OfflineStore>();
        for (var i = 0; i < OfflineStore.CompactionThreshold + 6; i++)
        {
            await features.PushAsync(Profile($"c{i % 7}", T0.AddHours(i), i));
        }

        var files = offline.DataFiles(SampleFeatureRepository.CardProfile.Name);
        Assert.InRange(files.Count, 1, 7);
        using (var snapshot = offline.Read(SampleFeatureRepository.CardProfile))
        {
            Assert.Equal(OfflineStore.CompactionThreshold + 6, Count(snapshot.Sql)); // no row lost, none doubled
        }
        var result = await features.GetHistoricalFeaturesAsync(new HistoricalFeaturesRequest(
            FeatureStoreTests.Columns(("card_id", ["c0", "c6"]), ("event_timestamp", [T0.AddDays(30).ToString("O"), T0.AddHours(6).ToString("O")])),
            Features: ["card_profile:credit_limit"]));
        Assert.Equal([63.0, 6.0], result.Data!["credit_limit"]); // c0's last push was i = 63; c6's first at hour 6
    }

    [Fact]
    public async Task Compaction_DuringARead_KeepsTheReadsFilesUntilItEnds()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var offline = modules.Get<OfflineStore>();
        for (var i = 0; i < 3; i++)
        {
            await features.PushAsync(Profile("c", T0.AddHours(i), i));
        }
        var directory = offline.ViewDirectory(SampleFeatureRepository.CardProfile.Name);

        using (var snapshot = offline.Read(SampleFeatureRepository.CardProfile))
        {
            Assert.True(offline.Compact(SampleFeatureRepository.CardProfile, force: true));
            Assert.Single(offline.DataFiles(SampleFeatureRepository.CardProfile.Name));
            Assert.Equal(3, Count(snapshot.Sql.Replace(".parquet'", ".parquet.retired'", StringComparison.Ordinal)
                .Replace($"'{directory}/", $"'{directory}/.", StringComparison.Ordinal)));
            Assert.Equal(3, Directory.EnumerateFiles(directory, "*.retired").Count());
        }

        Assert.Empty(Directory.EnumerateFiles(directory, "*.retired"));
        using var after = offline.Read(SampleFeatureRepository.CardProfile);
        Assert.Equal(3, Count(after.Sql));
    }

    [Fact]
    public async Task CrashMidCompaction_IsFinishedOrUndoneOnStart()
    {
        await using var modules = await InProcessModules.StartAsync();
        var features = modules.Get<IFeaturesClient>();
        var offline = modules.Get<OfflineStore>();
        await features.PushAsync(Profile("a", T0, 1));
        await features.PushAsync(Profile("b", T0, 2));
        var directory = offline.ViewDirectory(SampleFeatureRepository.CardProfile.Name);
        var originals = offline.DataFiles(SampleFeatureRepository.CardProfile.Name).ToList();

        // Crash before the merged file was in place: the intent is dropped, the originals stay.
        await File.WriteAllLinesAsync(Path.Combine(directory, ".x.compaction"), ["x-compacted.parquet", .. originals.Select(Path.GetFileName)!]);
        await File.WriteAllTextAsync(Path.Combine(directory, ".x-compacted.parquet.tmp"), "half");
        offline.CleanStaging();
        Assert.Equal(originals, offline.DataFiles(SampleFeatureRepository.CardProfile.Name));
        Assert.Empty(Directory.EnumerateFiles(directory, ".*"));

        // Crash after the merged file was in place but before the originals were removed: they are removed now.
        var merged = Path.Combine(directory, "y-compacted.parquet");
        using (var db = new DuckDBConnection("Data Source=:memory:"))
        {
            db.Open();
            using var copy = db.CreateCommand();
            copy.CommandText = $"COPY (SELECT * FROM read_parquet([{string.Join(", ", originals.Select(f => $"'{f}'"))}])) TO '{merged}' (FORMAT parquet)";
            copy.ExecuteNonQuery();
        }
        await File.WriteAllLinesAsync(Path.Combine(directory, ".y.compaction"), ["y-compacted.parquet", .. originals.Select(Path.GetFileName)!]);
        offline.CleanStaging();
        Assert.Equal([merged], offline.DataFiles(SampleFeatureRepository.CardProfile.Name));
        using var snapshot = offline.Read(SampleFeatureRepository.CardProfile);
        Assert.Equal(2, Count(snapshot.Sql));
    }
}
