using Strata.Data.Ingestion;
using Strata.Testing;

namespace Strata.Data.Tests;

/// <summary>The column count checked against <c>Strata:Data:MaxColumns</c> before a CSV is parsed: the first record's
/// fields, quotes honoured, with the separator the line uses.</summary>
public sealed class CsvHeaderTests
{
    [Theory]
    [InlineData("a,b,c\n1,2,3\n", 3)]
    [InlineData("a,\"b,c\",d\n1,2,3\n", 3)]
    [InlineData("\"multi\nline\",b\n1,2\n", 2)]
    [InlineData("a;b;c;d\r\n1;2;3;4\r\n", 4)]
    [InlineData("a\tb\n1\t2\n", 2)]
    [InlineData("single\n1\n", 1)]
    public void HeaderColumns_CountsTheFirstRecordsFields(string csv, int columns)
    {
        using var folder = new TempFolder();
        var file = Path.Combine(folder.Path, "x.csv");
        File.WriteAllText(file, csv);
        Assert.Equal(columns, CsvIngestion.HeaderColumns(file));
    }
}
