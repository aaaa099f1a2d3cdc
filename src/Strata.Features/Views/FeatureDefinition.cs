using System.Linq.Expressions;
using Strata.Contracts;
using Strata.Contracts.Features;

namespace Strata.Features.Views;

/// <summary>One feature of an on-demand view: its name and formula over the view's inputs, as the feature language's
/// tree (parsed from a definitions file by <see cref="Definitions.FeatureExpressionParser"/>), or written in C# as a lambda
/// whose parameter names are the input names: <c>FeatureDefinition.Of("age_squared", (double age) =&gt; age * age)</c>.</summary>
public sealed record FeatureDefinition(string Name, FeatureExpression Expression, string? Description = null)
{
    public static FeatureDefinition Of(string name, Expression<Func<double, double>> formula, string? description = null) =>
        new(name, FeatureExpressionWriter.Write(formula), description);

    public static FeatureDefinition Of(string name, Expression<Func<double, double, double>> formula, string? description = null) =>
        new(name, FeatureExpressionWriter.Write(formula), description);

    public static FeatureDefinition Of(string name, Expression<Func<double, double, double, double>> formula, string? description = null) =>
        new(name, FeatureExpressionWriter.Write(formula), description);

    /// <summary>The published field: name, type and formula.</summary>
    public FeatureField ToField() => new(Name, LogicalType.Float64, Description, Expression: Expression);
}
