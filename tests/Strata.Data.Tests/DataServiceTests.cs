using Strata.Contracts;
using System.Text;
using Strata.Contracts.Data;
using Strata.Contracts.Errors;
using Strata.Data.Ingestion;
using Strata.Data.Storage;

using Strata.Testing;

namespace Strata.Data.Tests;

public sealed class DataServiceTests : IDisposable
{
    private const string Csv = """
        age,income,target
        35,50000,0
        ,40000,1
        -1,30000,0
        20,90000,1
        0,10000,0
        61,20000.5,0
        """;

    private readonly TempFolder _folder = new();

    private DataService NewService()
    {
        var catalog = new DatasetCatalog(_folder.Path);
        return new DataService(catalog, new CsvIngestion(catalog, TimeProvider.System));
    }

    private static MemoryStream Text(string csv) => new(Encoding.UTF8.GetBytes(csv));

    private static readonly CleaningRules SeedRules = new(true, [RowFilter.Parse("age > 0")]);

    /// <summary>A dataset of text columns only has no frame to read (DuckDB was handed an empty SELECT: a 500).</summary>
    [Fact]
    public async Task ReadColumnsAsync_NoNumericColumn_IsRefusedNamingTheField()
    {
        var service = NewService();
        var version = await service.IngestCsvAsync("words", Text("a,b\nx,y\n"), CleaningRules.None);

        var error = await Assert.ThrowsAsync<InputValidationException>(() => service.ReadColumnsAsync(version.Id));
        Assert.Equal("column", error.Field);
    }

    [Fact]
    public async Task IngestCsvAsync_DirtyRows_DropsAndReportsEachRule()
    {
        var version = await NewService().IngestCsvAsync("people", Text(Csv), SeedRules);

        Assert.Equal(6, version.SourceRows);
        Assert.Equal(3, version.Rows);
        Assert.Equal([new DropReport("missing_values", 1), new DropReport("age > 0", 2)], version.Dropped);
        Assert.Equal([LogicalType.Int64, LogicalType.Float64, LogicalType.Int64], version.Schema.Select(c => c.Type));
        Assert.Equal(["age", "income", "target"], version.Schema.Select(c => c.Name));
        Assert.Matches("^[0-9a-f]{64}$", version.Id);
    }

    [Fact]
    public async Task IngestCsvAsync_SameContentAndRules_ReturnsSameVersion()
    {
        var service = NewService();
        var first = await service.IngestCsvAsync("people", Text(Csv), SeedRules);
        var again = await service.IngestCsvAsync("people", Text(Csv), SeedRules);
        var otherRules = await service.IngestCsvAsync("people", Text(Csv), new CleaningRules(true, []));

        Assert.Equal(first.Id, again.Id);
        Assert.Equal(first, again);
        Assert.NotEqual(first.Id, otherRules.Id);
        Assert.Equal(5, otherRules.Rows);
        Assert.Equal(2, (await service.ListDatasetsAsync("people")).Count);
    }

    [Fact]
    public async Task ReadColumnsAsync_AfterRestart_ReturnsKeptRowsInOrder()
    {
        var id = (await NewService().IngestCsvAsync("people", Text(Csv), SeedRules)).Id;

        var reopened = NewService();
        var frame = await reopened.ReadColumnsAsync(id);

        Assert.Equal(3, frame.Rows);
        Assert.Equal([35.0, 20, 61], frame.Columns["age"]);
        Assert.Equal([50000, 90000, 20000.5], frame.Columns["income"]);
        Assert.NotNull(await reopened.GetDatasetAsync(id));
    }

    [Fact]
    public async Task Catalog_Reopen_SkipsLeftoversOfACrashAndCorruptManifests()
    {
        var kept = await NewService().IngestCsvAsync("people", Text(Csv), SeedRules);
        var root = Path.Combine(_folder.Path, "datasets");
        Directory.CreateDirectory(Path.Combine(root, ".staging-crashed"));
        var broken = Path.Combine(root, new string('e', 64));
        Directory.CreateDirectory(broken);
        await File.WriteAllTextAsync(Path.Combine(broken, DatasetCatalog.ManifestFile), "{ not json");

        var reopened = NewService();

        Assert.Equal([kept.Id], (await reopened.ListDatasetsAsync()).Select(v => v.Id));
        Assert.False(Directory.Exists(Path.Combine(root, ".staging-crashed")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a,b\n1,2\n3,4,5,6\n")]
    public async Task IngestCsvAsync_UnreadableCsv_ThrowsNamingBody(string csv)
    {
        var error = await Assert.ThrowsAsync<InputValidationException>(() => NewService().IngestCsvAsync("bad", Text(csv), CleaningRules.None));
        Assert.Equal("body", error.Field);
        Assert.Empty(await NewService().ListDatasetsAsync());
        Assert.Empty(Directory.GetDirectories(Path.Combine(_folder.Path, "datasets")));
    }

    [Theory]
    [InlineData("height > 0", "is not in the CSV")]
    [InlineData("name > 0", "not numeric")]
    public async Task IngestCsvAsync_FilterOnMissingOrTextColumn_ThrowsNamingFilter(string filter, string reason)
    {
        var csv = "age,name\n1,a\n2,b\n";
        var error = await Assert.ThrowsAsync<InputValidationException>(() =>
            NewService().IngestCsvAsync("f", Text(csv), new CleaningRules(false, [RowFilter.Parse(filter)])));
        Assert.Equal("filter", error.Field);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(Path.Combine(_folder.Path, "datasets")));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a b")]
    [InlineData("")]
    public async Task IngestCsvAsync_BadName_ThrowsNamingName(string name) =>
        Assert.Equal("name", (await Assert.ThrowsAsync<InputValidationException>(() =>
            NewService().IngestCsvAsync(name, Text(Csv), CleaningRules.None))).Field);

    [Fact]
    public async Task ReadColumnsAsync_UnknownOrTextColumn_Throws()
    {
        var service = NewService();
        var id = (await service.IngestCsvAsync("t", Text("age,name\n1,a\n"), CleaningRules.None)).Id;
        Assert.Equal("column", (await Assert.ThrowsAsync<InputValidationException>(() => service.ReadColumnsAsync(id, ["nope"]))).Field);
        Assert.Equal("column", (await Assert.ThrowsAsync<InputValidationException>(() => service.ReadColumnsAsync(id, ["name"]))).Field);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => service.ReadColumnsAsync(new string('0', 64)));
    }

    public void Dispose() => _folder.Dispose();
}
