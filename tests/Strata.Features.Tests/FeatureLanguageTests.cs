using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;
using Strata.Features.Definitions;

namespace Strata.Features.Tests;

/// <summary>The feature language: what it computes, what it refuses, and that a tree written back as text parses to
/// the same tree (what the export relies on).</summary>
public class FeatureLanguageTests
{
    private static readonly Dictionary<string, LogicalType> Types = new()
    {
        ["amount"] = LogicalType.Float64,
        ["limit"] = LogicalType.Float64,
        ["count"] = LogicalType.Int64,
        ["business"] = LogicalType.Bool,
        ["country"] = LogicalType.String,
        ["at"] = LogicalType.Timestamp,
    };

    /// <summary>Computes <paramref name="text"/> over one row (amount 50, limit 200, count 3, business true, country
    /// 'US', at 2026-03-06T14:30:00Z, a Friday), with <paramref name="nullable"/> inputs null.</summary>
    private static double Eval(string text, params string[] nullable)
    {
        var inputs = Types.Select(t => new FeatureField(t.Key, t.Value, Nullable: nullable.Contains(t.Key) ? true : null)).ToList();
        var view = new FeatureViewInfo("v", "1", "", inputs, [new FeatureField("f", LogicalType.Float64, Expression: FeatureExpressionParser.Parse(text, Types))]);
        var transform = FeatureTransform.Compile(view);
        object?[] row = [50.0, 200.0, 3L, true, "US", new DateTimeOffset(2026, 3, 6, 14, 30, 0, TimeSpan.Zero)];
        var values = row.Select((v, i) => nullable.Contains(inputs[i].Name) ? double.NaN : transform.Encode(i, v)).ToArray();
        return transform.Compute(values)[0];
    }

    [Theory]
    [InlineData("amount / limit", 0.25)]
    [InlineData("amount + limit * 2 - 10", 440)]
    [InlineData("-amount + 1", -49)]
    [InlineData("amount ** 2", 2500)]
    [InlineData("2 ^ 3 ^ 2", 512)]
    [InlineData("(amount + limit) / 2", 125)]
    [InlineData("log(exp(2))", 2)]
    [InlineData("sqrt(abs(-16))", 4)]
    [InlineData("min(amount, limit) + max(amount, limit)", 250)]
    [InlineData("pow(count, 2)", 9)]
    [InlineData("clamp(amount / limit, 0.3, 1)", 0.3)]
    [InlineData("amount > 10", 1)]
    [InlineData("amount <= 10", 0)]
    [InlineData("amount == 50 and count != 4", 1)]
    [InlineData("amount < 0 or business", 1)]
    [InlineData("not business", 0)]
    [InlineData("if(amount > limit, 1, 2)", 2)]
    [InlineData("amount > 10 ? amount : 0", 50)]
    [InlineData("country == 'US'", 1)]
    [InlineData("'US' == country", 1)]
    [InlineData("country != \"US\"", 0)]
    [InlineData("country in ('CA', 'US', 'MX')", 1)]
    [InlineData("country not in ('CA', 'MX')", 1)]
    [InlineData("country == 'FR'", 0)]
    [InlineData("count in (1, 2, 3)", 1)]
    [InlineData("count in (-1, 4)", 0)]
    [InlineData("year(at)", 2026)]
    [InlineData("month(at) * 100 + day(at)", 306)]
    [InlineData("hour(at) * 60 + minute(at)", 870)]
    [InlineData("day_of_week(at)", 5)]
    [InlineData("true + false", 1)]
    [InlineData("1.5e2", 150)]
    [InlineData("is_null(amount)", 0)]
    [InlineData("coalesce(amount, 7)", 50)]
    public void Computes(string text, double expected) => Assert.Equal(expected, Eval(text), 9);

    [Fact]
    public void Null_IsSeenOnlyByNullableInputs_AndPropagates()
    {
        Assert.Equal(1, Eval("is_null(amount)", "amount"));
        Assert.Equal(7, Eval("coalesce(amount, 7)", "amount"));
        Assert.True(double.IsNaN(Eval("amount + 1", "amount")));
        Assert.True(double.IsNaN(Eval("amount > 1", "amount")));
        Assert.Equal(2, Eval("if(amount > 1, 1, 2)", "amount"));
        Assert.Equal(1, Eval("is_null(country)", "country"));
        Assert.True(double.IsNaN(Eval("country == 'US'", "country")));
        // A null in an input that is not nullable is refused, naming it.
        var view = new FeatureViewInfo("v", "1", "", [new FeatureField("amount", LogicalType.Float64)],
            [new FeatureField("f", LogicalType.Float64, Expression: FeatureExpressionParser.Parse("amount", Types))]);
        Assert.Equal("amount", Assert.Throws<InputValidationException>(() => FeatureTransform.Compile(view).Compute([double.NaN])).Field);
    }

    [Theory]
    [InlineData("amount.ToString()", "'.'")]
    [InlineData("System.IO.File.Delete('x')", "'.'")]
    [InlineData("GetType()", "not a function")]
    [InlineData("eval('1')", "not a function")]
    [InlineData("balance * 2", "not an input")]
    [InlineData("(amount + 1", "')'")]
    [InlineData("amount +", "ends where a value")]
    [InlineData("amount limit", "end of the expression")]
    [InlineData("country + 1", "string input 'country' as a number")]
    [InlineData("country == 3", "compares a string")]
    [InlineData("amount == 'US'", "compares a string")]
    [InlineData("'a'", "is a string")]
    [InlineData("country in (1, 2)", "string constants")]
    [InlineData("amount in (limit)", "number constants")]
    [InlineData("log(1, 2)", "takes 1")]
    [InlineData("1e999", "not a finite number")]
    [InlineData("'open", "not closed")]
    [InlineData("amount; 1", "';'")]
    [InlineData("amount = 1", "'='")]
    [InlineData("12abc", "not a number")]
    public void Refuses(string text, string reason)
    {
        var error = Assert.Throws<FeatureExpressionException>(() => FeatureExpressionParser.Parse(text, Types));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bounds_LengthDepthAndSize()
    {
        Assert.Contains("limit is", Assert.Throws<FeatureExpressionException>(() => FeatureExpressionParser.Parse(new string(' ', 2001) + "1", Types)).Message, StringComparison.Ordinal);
        Assert.Contains("nested deeper", Assert.Throws<FeatureExpressionException>(() => FeatureExpressionParser.Parse(new string('(', 40) + "1" + new string(')', 40), Types)).Message, StringComparison.Ordinal);
        Assert.Contains("nested deeper", Assert.Throws<FeatureExpressionException>(() => FeatureExpressionParser.Parse(string.Concat(Enumerable.Repeat("not ", 40)) + "amount", Types)).Message, StringComparison.Ordinal);
        Assert.Contains("more than", Assert.Throws<FeatureExpressionException>(() => FeatureExpressionParser.Parse(string.Join(" + ", Enumerable.Repeat("1", 450)), Types)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("amount / limit")]
    [InlineData("-amount * -2")]
    [InlineData("not (amount > 1 and business)")]
    [InlineData("country not in ('a\\'b', 'c\\\\d')")]
    [InlineData("amount > 10 ? coalesce(amount, 0) : clamp(limit, 1, 2)")]
    [InlineData("day_of_week(at) in (6, 7) or null")]
    [InlineData("amount ** 0.5 + pow(2, -1)")]
    public void Text_OfATree_ParsesBackToTheSameTree(string text)
    {
        var tree = FeatureExpressionParser.Parse(text, Types);
        var again = FeatureExpressionParser.Parse(tree.ToString(), Types);
        Assert.Equal(JsonSerializer.Serialize(tree, StrataJson.Options), JsonSerializer.Serialize(again, StrataJson.Options));
    }
}
