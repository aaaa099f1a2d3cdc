using System.Text;
using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Features;

namespace Strata.Contracts.Tests;

/// <summary>Feast's column-major <c>df</c> is read value by value into CLR values: small in memory (issue 24: a
/// million-row push read as JsonElements took a gigabyte), typed as the checks downstream expect.</summary>
public sealed class FeatureColumnsJsonTests
{
    [Fact]
    public void Read_TypesEachValue_AndKeepsWhatIsNotAScalarAsJson()
    {
        var columns = JsonSerializer.Deserialize<FeatureColumns>("""
            {"id": [1, -9223372036854775808, 1.5, 1e400, "x", true, false, null, [1], {"a": 1}], "empty": []}
            """, StrataJson.Options)!;
        var values = columns["id"];
        Assert.Equal([1L, long.MinValue, 1.5, "x", true, false, null], values.Take(2).Concat(values.Skip(2).Take(1)).Concat([values[4], values[5], values[6], values[7]]));
        Assert.IsType<long>(values[0]);
        Assert.IsType<double>(values[2]);
        Assert.Equal(JsonValueKind.Number, Assert.IsType<JsonElement>(values[3]).ValueKind); // beyond a double: refused downstream as before
        Assert.Equal(JsonValueKind.Array, Assert.IsType<JsonElement>(values[8]).ValueKind);
        Assert.Equal(JsonValueKind.Object, Assert.IsType<JsonElement>(values[9]).ValueKind);
        Assert.Empty(columns["empty"]);
        // A column that is not an array is read as null: the push or lookup refuses it naming the column.
        Assert.Null(JsonSerializer.Deserialize<FeatureColumns>("""{"a": {"b": [1]}}""", StrataJson.Options)!["a"]);
        Assert.Equal("""{"id":[1,-9223372036854775808,1.5,1e400,"x",true,false,null,[1],{"a":1}],"empty":[]}""", JsonSerializer.Serialize(columns, StrataJson.Options));
    }

    [Fact]
    public void Read_RepeatedValues_ShareOneInstance()
    {
        var columns = JsonSerializer.Deserialize<FeatureColumns>("""
            {"ts": ["2026-12-01T09:30:00Z", "2026-12-01T09:30:00Z", "x", "x", "2026-12-01T09:30:00Z"], "age": [30, 30, 5000, 5000]}
            """, StrataJson.Options)!;
        Assert.Same(columns["ts"][0], columns["ts"][1]);
        Assert.Same(columns["ts"][2], columns["ts"][3]);
        Assert.Equal("2026-12-01T09:30:00Z", columns["ts"][4]);
        Assert.Same(columns["age"][0], columns["age"][1]); // small whole numbers share a box
        Assert.Equal(columns["age"][2], columns["age"][3]);
    }

    [Theory]
    [InlineData("""{"a": [1], "a": [2]}""")]
    [InlineData("""[1]""")]
    [InlineData("""{"a": [1""")]
    public void Read_Malformed_IsAJsonError(string json) =>
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<FeatureColumns>(json, StrataJson.Options));

    [Fact]
    public void Read_AMillionValues_AllocatesAFewTimesTheirText_NotADocumentEach()
    {
        const int Rows = 250_000;
        var json = new StringBuilder("""{"user_id": [""");
        for (var i = 0; i < Rows; i++)
        {
            json.Append(i).Append(',');
        }
        json.Length--;
        json.Append("""], "income": [""");
        for (var i = 0; i < Rows; i++)
        {
            json.Append(30000.5 + i % 1000).Append(',');
        }
        json.Length--;
        json.Append("""], "ts": [""");
        for (var i = 0; i < Rows; i++)
        {
            json.Append("\"2026-12-01T09:30:00Z\",");
        }
        json.Length--;
        json.Append("""], "flag": [""");
        for (var i = 0; i < Rows; i++)
        {
            json.Append(i % 2 == 0 ? "true," : "false,");
        }
        json.Length--;
        json.Append("]}");
        var bytes = Encoding.UTF8.GetBytes(json.ToString());
        JsonSerializer.Deserialize<FeatureColumns>(bytes, StrataJson.Options); // warm
        var before = GC.GetAllocatedBytesForCurrentThread();
        var columns = JsonSerializer.Deserialize<FeatureColumns>(bytes, StrataJson.Options)!;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(Rows, columns["flag"].Count);
        // Measured: about 30 bytes a value (a box, a list slot and its growth; the repeated timestamp shared). Read as
        // JsonElements (a document each) it was 171.
        var perValue = (double)allocated / (4 * Rows);
        Assert.True(perValue < 80, $"{perValue:F0} bytes allocated per value");
    }
}
