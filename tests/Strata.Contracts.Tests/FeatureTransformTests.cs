using Strata.Contracts.Errors;
using Strata.Contracts.Features;

namespace Strata.Contracts.Tests;

public class FeatureTransformTests
{
    private static FeatureViewInfo View(params FeatureField[] features) =>
        new("v", "1", "test", [new("x", LogicalType.Float64, ExclusiveMinimum: 0), new("y", LogicalType.Float64)], features);

    private static FeatureExpression Op(string op, params FeatureExpression[] args) => new(op, Args: args);

    [Fact]
    public void Compute_Tree_EvaluatesInFeatureOrder()
    {
        var transform = FeatureTransform.Compile(View(
            new FeatureField("sum", LogicalType.Float64, Expression: Op("add", FeatureExpression.Of("x"), FeatureExpression.Of("y"))),
            new("scaled", LogicalType.Float64, Expression: Op("div", Op("neg", FeatureExpression.Of("y")), FeatureExpression.Constant(4))),
            new("root", LogicalType.Float64, Expression: Op("sqrt", Op("mul", FeatureExpression.Of("x"), FeatureExpression.Of("x"))))));

        Assert.Equal([5, -0.75, 2], transform.Compute([2, 3]));
    }

    [Theory]
    [InlineData(0, 1, "x")]
    [InlineData(double.NaN, 1, "x")]
    [InlineData(1, double.NegativeInfinity, "y")]
    public void Compute_InputOutOfBounds_ThrowsNamingIt(double x, double y, string field)
    {
        var transform = FeatureTransform.Compile(View(new FeatureField("x2", LogicalType.Float64, Expression: FeatureExpression.Of("x"))));
        Assert.Equal(field, Assert.Throws<InputValidationException>(() => transform.Compute([x, y])).Field);
    }

    [Fact]
    public void Compile_MalformedDefinitions_AreRefused()
    {
        Assert.Throws<InvalidDataException>(() => FeatureTransform.Compile(View(new FeatureField("f", LogicalType.Float64))));
        Assert.Throws<InvalidDataException>(() => FeatureTransform.Compile(View(new FeatureField("f", LogicalType.Float64, Expression: FeatureExpression.Of("z")))));
        Assert.Throws<InvalidDataException>(() => FeatureTransform.Compile(View(new FeatureField("f", LogicalType.Float64, Expression: Op("add", FeatureExpression.Of("x"))))));
        Assert.Throws<InvalidDataException>(() => FeatureTransform.Compile(View(new FeatureField("f", LogicalType.Float64, Expression: Op("system", FeatureExpression.Of("x"))))));
        var deep = FeatureExpression.Of("x");
        for (var i = 0; i < 40; i++)
        {
            deep = Op("neg", deep);
        }
        Assert.Throws<InvalidDataException>(() => FeatureTransform.Compile(View(new FeatureField("f", LogicalType.Float64, Expression: deep))));
    }
}
