using System.Linq.Expressions;
using Strata.Contracts.Features;

namespace Strata.Features.Views;

/// <summary>Turns a C# feature lambda into the <see cref="FeatureExpression"/> tree it is published as. Only arithmetic
/// on the inputs, constants and <see cref="Math"/>'s Pow/Min/Max/Abs/Sqrt/Log/Exp is accepted: a definition that could
/// not run identically everywhere is refused when the view is built, not when a request arrives.</summary>
public static class FeatureExpressionWriter
{
    public static FeatureExpression Write(LambdaExpression formula)
    {
        ArgumentNullException.ThrowIfNull(formula);
        return Visit(formula.Body);
    }

    private static FeatureExpression Visit(Expression node) => node switch
    {
        ParameterExpression p => FeatureExpression.Of(p.Name ?? throw Unsupported(node)),
        ConstantExpression { Value: double d } => FeatureExpression.Constant(d),
        ConstantExpression { Value: int i } => FeatureExpression.Constant(i),
        UnaryExpression { NodeType: ExpressionType.Convert } u => Visit(u.Operand),
        UnaryExpression { NodeType: ExpressionType.Negate } u => new("neg", Args: [Visit(u.Operand)]),
        BinaryExpression b => new(b.NodeType switch
        {
            ExpressionType.Add => "add",
            ExpressionType.Subtract => "sub",
            ExpressionType.Multiply => "mul",
            ExpressionType.Divide => "div",
            _ => throw Unsupported(node),
        }, Args: [Visit(b.Left), Visit(b.Right)]),
        MethodCallExpression { Method.DeclaringType: var t } call when t == typeof(Math) => new(call.Method.Name switch
        {
            nameof(Math.Pow) => "pow",
            nameof(Math.Min) => "min",
            nameof(Math.Max) => "max",
            nameof(Math.Abs) => "abs",
            nameof(Math.Sqrt) => "sqrt",
            nameof(Math.Log) when call.Arguments.Count == 1 => "log",
            nameof(Math.Exp) => "exp",
            _ => throw Unsupported(node),
        }, Args: [.. call.Arguments.Select(Visit)]),
        _ => throw Unsupported(node),
    };

    private static NotSupportedException Unsupported(Expression node) =>
        new($"'{node}' cannot be part of a feature definition (arithmetic on inputs, constants and Math functions only)");
}
