using Strata.Contracts.Errors;
using Strata.Contracts.Features;

namespace Strata.Contracts.Tests;

public class InputRowReaderTests
{
    private static readonly FeatureField[] Inputs = [new("age", LogicalType.Float64), new("income", LogicalType.Float64)];

    [Fact]
    public void Read_ObjectInAnyOrder_ReturnsValuesInViewOrder()
    {
        var values = InputRowReader.Read("""{"income": 50000, "extra": [1, {"a": 2}], "age": 35.5}""", Inputs);
        Assert.Equal([35.5, 50000], values);
    }

    [Fact]
    public void ReadBatch_ObjectOrArray_TellsWhichItWas()
    {
        var single = InputRowReader.ReadBatch(new System.Buffers.ReadOnlySequence<byte>("""{"age": 1, "income": 2}"""u8.ToArray()), Inputs, out var isBatch);
        Assert.False(isBatch);
        Assert.Equal([1.0, 2], Assert.Single(single));

        var batch = InputRowReader.ReadBatch(new System.Buffers.ReadOnlySequence<byte>("""[{"age": 1, "income": 2}, {"income": 4, "age": 3}]"""u8.ToArray()), Inputs, out isBatch);
        Assert.True(isBatch);
        Assert.Equal([[1.0, 2], [3.0, 4]], batch);

        var error = Assert.Throws<InputValidationException>(() =>
            InputRowReader.ReadBatch(new System.Buffers.ReadOnlySequence<byte>("""[{"age": 1, "income": 2}, {"age": "x", "income": 4}]"""u8.ToArray()), Inputs, out _));
        Assert.Equal("[1].age", error.Field);
    }

    [Theory]
    [InlineData("""{"income": 1}""", "age", "is required")]
    [InlineData("""{"age": "35", "income": 1}""", "age", "must be a number, got a string")]
    [InlineData("""{"age": null, "income": 1}""", "age", "must be a number, got null")]
    [InlineData("""{"age": true, "income": 1}""", "age", "must be a number, got a boolean")]
    [InlineData("""{"age": 1, "income": [1]}""", "income", "must be a number, got an array")]
    [InlineData("""{"age": 1e400, "income": 1}""", "age", "must be a finite number")]
    [InlineData("not json", "body", "is not valid JSON")]
    [InlineData("[35, 50000]", "body", "must be a JSON object")]
    [InlineData("""{"age": 1, "income": 2""", "body", "is not valid JSON")]
    [InlineData("""{"age": 1, "income": 2} {}""", "body", "is not valid JSON")]
    [InlineData("", "body", "is not valid JSON")]
    public void Read_BadInput_ThrowsNamingTheField(string json, string field, string reason)
    {
        var error = Assert.Throws<InputValidationException>(() => InputRowReader.Read(json, Inputs));
        Assert.Equal(field, error.Field);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
    }
}
