using Strata.Contracts;
using System.Linq.Expressions;
using Strata.Contracts.Features;

namespace Strata.Features.Views;

/// <summary>One feature of a view, written as a C# lambda over the view's inputs; the lambda's parameter names are
/// the input names: <c>FeatureDefinition.Of("age_squared", (double age) =&gt; age * age)</c>.</summary>
public sealed record FeatureDefinition(string Name, LambdaExpression Formula, string? Description = null)
{
    public static FeatureDefinition Of(string name, Expression<Func<double, double>> formula, string? description = null) =>
        new(name, formula, description);

    public static FeatureDefinition Of(string name, Expression<Func<double, double, double>> formula, string? description = null) =>
        new(name, formula, description);

    public static FeatureDefinition Of(string name, Expression<Func<double, double, double, double>> formula, string? description = null) =>
        new(name, formula, description);

    /// <summary>The published field: name, type and the formula as a <see cref="FeatureExpression"/> tree.</summary>
    public FeatureField ToField() => new(Name, LogicalType.Float64, Description, Expression: FeatureExpressionWriter.Write(Formula));
}
