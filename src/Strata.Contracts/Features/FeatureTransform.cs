using System.Globalization;
using System.Linq.Expressions;
using Strata.Contracts.Errors;

namespace Strata.Contracts.Features;

/// <summary>A feature view compiled to one delegate: validates inputs against their declared bounds, then computes every
/// feature. The Features module uses it for training frames and its online API, serving for each prediction: one
/// compiled definition, so offline and online values cannot differ.</summary>
public sealed class FeatureTransform
{
    private const int MaxDepth = 32;
    private readonly Action<double[], double[]> _compute;

    private FeatureTransform(FeatureViewInfo view, Action<double[], double[]> compute)
    {
        View = view;
        _compute = compute;
    }

    public FeatureViewInfo View { get; }

    /// <summary>Compiles a view definition; a malformed definition is an <see cref="InvalidDataException"/>.</summary>
    public static FeatureTransform Compile(FeatureViewInfo view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var inputs = Expression.Parameter(typeof(double[]), "inputs");
        var outputs = Expression.Parameter(typeof(double[]), "features");
        var index = view.Inputs.Select((f, i) => (f.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        var body = view.Features.Select((feature, i) => (Expression)Expression.Assign(
            Expression.ArrayAccess(outputs, Expression.Constant(i)),
            Build(feature.Expression ?? throw new InvalidDataException($"feature '{feature.Name}' of view '{view.Name}' has no expression"),
                inputs, index, view.Name, 0)));
        var lambda = Expression.Lambda<Action<double[], double[]>>(Expression.Block(body.Append(Expression.Empty())), inputs, outputs);
        return new FeatureTransform(view, lambda.Compile());
    }

    /// <summary>Validates one row of inputs (in the view's input order) and returns its features (in the view's feature order).</summary>
    public double[] Compute(double[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length != View.Inputs.Count)
        {
            throw new InputValidationException("inputs", $"view '{View.Name}' takes {View.Inputs.Count} inputs, got {inputs.Length}");
        }
        for (var i = 0; i < inputs.Length; i++)
        {
            var field = View.Inputs[i];
            if (!double.IsFinite(inputs[i]))
            {
                throw new InputValidationException(field.Name, "must be a finite number");
            }
            if (field.ExclusiveMinimum is double min && !(inputs[i] > min))
            {
                throw new InputValidationException(field.Name,
                    $"must be > {min.ToString(CultureInfo.InvariantCulture)}, got {inputs[i].ToString(CultureInfo.InvariantCulture)}");
            }
        }
        var features = new double[View.Features.Count];
        _compute(inputs, features);
        return features;
    }

    private static Expression Build(FeatureExpression node, ParameterExpression inputs, Dictionary<string, int> index, string view, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"a feature expression of view '{view}' is nested deeper than {MaxDepth}");
        }
        if (!FeatureExpression.Operators.TryGetValue(node.Op ?? string.Empty, out var arity) || (node.Args?.Count ?? 0) != arity)
        {
            throw new InvalidDataException($"view '{view}': '{node.Op}' with {node.Args?.Count ?? 0} operands is not a known operator");
        }
        Expression Arg(int i) => Build(node.Args![i], inputs, index, view, depth + 1);
        Expression Math(string method, int operands) =>
            Expression.Call(typeof(Math).GetMethod(method, Enumerable.Repeat(typeof(double), operands).ToArray())!,
                Enumerable.Range(0, operands).Select(Arg));
        return node.Op switch
        {
            "input" => node.Input is not null && index.TryGetValue(node.Input, out var i)
                ? Expression.ArrayIndex(inputs, Expression.Constant(i))
                : throw new InvalidDataException($"view '{view}' uses input '{node.Input}', which it does not declare"),
            "const" => Expression.Constant(node.Value ?? throw new InvalidDataException($"view '{view}': a constant has no value")),
            "add" => Expression.Add(Arg(0), Arg(1)),
            "sub" => Expression.Subtract(Arg(0), Arg(1)),
            "mul" => Expression.Multiply(Arg(0), Arg(1)),
            "div" => Expression.Divide(Arg(0), Arg(1)),
            "pow" => Math(nameof(System.Math.Pow), 2),
            "min" => Math(nameof(System.Math.Min), 2),
            "max" => Math(nameof(System.Math.Max), 2),
            "neg" => Expression.Negate(Arg(0)),
            "abs" => Math(nameof(System.Math.Abs), 1),
            "sqrt" => Math(nameof(System.Math.Sqrt), 1),
            "log" => Math(nameof(System.Math.Log), 1),
            "exp" => Math(nameof(System.Math.Exp), 1),
            _ => throw new InvalidDataException($"view '{view}': unknown operator '{node.Op}'"),
        };
    }
}
