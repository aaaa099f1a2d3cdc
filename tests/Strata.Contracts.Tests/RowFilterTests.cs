using Strata.Contracts.Data;
using Strata.Contracts.Errors;

namespace Strata.Contracts.Tests;

public class RowFilterTests
{
    [Theory]
    [InlineData("age > 0", "age", ">", 0)]
    [InlineData("age>=18", "age", ">=", 18)]
    [InlineData(" income != -1.5e3 ", "income", "!=", -1500)]
    [InlineData("x_1<2", "x_1", "<", 2)]
    public void Parse_WellFormed_ReturnsColumnOpValue(string text, string column, string op, double value)
    {
        var filter = RowFilter.Parse(text);
        Assert.Equal(new RowFilter(column, op, value), filter);
        Assert.Equal(filter, RowFilter.Parse(filter.ToString()));
    }

    [Theory]
    [InlineData("age > 0; DROP TABLE x")]
    [InlineData("age ~ 0")]
    [InlineData("\"age\" > 0")]
    [InlineData("age > abc")]
    [InlineData("")]
    [InlineData("1age > 0")]
    public void Parse_Malformed_ThrowsNamingFilter(string text)
    {
        var error = Assert.Throws<InputValidationException>(() => RowFilter.Parse(text));
        Assert.Equal("filter", error.Field);
    }
}
