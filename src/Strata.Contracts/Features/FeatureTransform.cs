using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using Strata.Contracts.Errors;

namespace Strata.Contracts.Features;

/// <summary>A feature view compiled to one delegate: validates inputs against their declared bounds, then computes every
/// feature. The Features module uses it for training frames and its online API, serving for each prediction: one
/// compiled definition, so offline and online values cannot differ.</summary>
/// <remarks>Every input travels as a <see cref="double"/>: numbers as they are, booleans as 1/0, timestamps as Unix
/// seconds, null as NaN (only for inputs declared <c>nullable</c>), and a string input as its code in the view's own
/// table of the string constants it is compared with (<see cref="Encode"/>): string equality and membership are then
/// comparisons of codes, and the hot path stays one array of doubles.</remarks>
public sealed class FeatureTransform
{
    private const int MaxDepth = 32;
    private readonly Action<double[], double[]> _compute;
    private readonly Dictionary<string, int>?[] _codes;

    private FeatureTransform(FeatureViewInfo view, Action<double[], double[]> compute, Dictionary<string, int>?[] codes)
    {
        View = view;
        _compute = compute;
        _codes = codes;
    }

    public FeatureViewInfo View { get; }

    /// <summary>Compiles a view definition; a malformed definition is an <see cref="InvalidDataException"/>.</summary>
    public static FeatureTransform Compile(FeatureViewInfo view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var inputs = Expression.Parameter(typeof(double[]), "inputs");
        var outputs = Expression.Parameter(typeof(double[]), "features");
        var index = view.Inputs.Select((f, i) => (f.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        var codes = new Dictionary<string, int>?[view.Inputs.Count];
        for (var i = 0; i < codes.Length; i++)
        {
            codes[i] = view.Inputs[i].Type == LogicalType.String ? new Dictionary<string, int>(StringComparer.Ordinal) : null;
        }
        var builder = new Builder(view, inputs, index, codes);
        var body = view.Features.Select((feature, i) => (Expression)Expression.Assign(
            Expression.ArrayAccess(outputs, Expression.Constant(i)),
            builder.Number(feature.Expression ?? throw new InvalidDataException($"feature '{feature.Name}' of view '{view.Name}' has no expression"), 0)));
        var lambda = Expression.Lambda<Action<double[], double[]>>(Expression.Block(body.Append(Expression.Empty())), inputs, outputs);
        return new FeatureTransform(view, lambda.Compile(), codes);
    }

    /// <summary>The double an input value travels as (see the remarks); a value of the wrong kind is an
    /// <see cref="InputValidationException"/> naming the input.</summary>
    public double Encode(int input, object? value)
    {
        var field = View.Inputs[input];
        if (_codes[input] is { } codes)
        {
            return value switch
            {
                null => double.NaN,
                string s => codes.TryGetValue(s, out var code) ? code : -1,
                _ => throw new InputValidationException(field.Name, "must be a string"),
            };
        }
        return value switch
        {
            null => double.NaN,
            double d => d,
            float f => f,
            long l => l,
            int i => i,
            bool b => b ? 1 : 0,
            DateTimeOffset t => t.ToUnixTimeMilliseconds() / 1000.0,
            DateTime t => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeMilliseconds() / 1000.0,
            _ => throw new InputValidationException(field.Name, $"must be {WireNames.Of(field.Type)}"),
        };
    }

    /// <summary>Whether input <paramref name="input"/> is a string (its values go through <see cref="Encode"/>).</summary>
    public bool IsText(int input) => _codes[input] is not null;

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
            if (double.IsNaN(inputs[i]) && field.Nullable == true)
            {
                continue;
            }
            if (!double.IsFinite(inputs[i]))
            {
                throw new InputValidationException(field.Name, _codes[i] is not null ? "is required" : "must be a finite number");
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

    /// <summary>Builds the expression tree of one feature, checking arity, inputs and where strings may appear.</summary>
    private sealed class Builder(FeatureViewInfo view, ParameterExpression inputs, Dictionary<string, int> index, Dictionary<string, int>?[] codes)
    {
        public Expression Number(FeatureExpression node, int depth)
        {
            Check(node, depth);
            Expression Arg(int i) => Number(node.Args![i], depth + 1);
            Expression Call(string method, params Expression[] args) => Expression.Call(typeof(FeatureOps).GetMethod(method, BindingFlags.Public | BindingFlags.Static)!, args);
            return node.Op switch
            {
                "input" => TextInput(node) is not null
                    ? throw Invalid($"string input '{node.Input}' can only be compared (==, !=, in) or tested with is_null")
                    : Expression.ArrayIndex(inputs, Expression.Constant(InputIndex(node))),
                "const" => Expression.Constant(node.Value ?? throw Invalid("a constant has no value")),
                "text" => throw Invalid($"the string '{node.Text}' can only be compared with a string input"),
                "add" => Expression.Add(Arg(0), Arg(1)),
                "sub" => Expression.Subtract(Arg(0), Arg(1)),
                "mul" => Expression.Multiply(Arg(0), Arg(1)),
                "div" => Expression.Divide(Arg(0), Arg(1)),
                "neg" => Expression.Negate(Arg(0)),
                "pow" or "min" or "max" or "abs" or "sqrt" or "log" or "exp" or "and" or "or" or "not" or "if" or "clamp" or "coalesce"
                    or "lt" or "le" or "gt" or "ge" or "year" or "month" or "day" or "hour" or "minute" or "day_of_week" =>
                    Call(FeatureOps.Method(node.Op), [.. Enumerable.Range(0, node.Args!.Count).Select(Arg)]),
                "is_null" => Call(nameof(FeatureOps.IsNull), TextInput(node.Args![0]) is not null ? Input(node.Args[0]) : Arg(0)),
                "eq" or "ne" => Equality(node, depth),
                "in" => Membership(node, depth),
                _ => throw Invalid($"unknown operator '{node.Op}'"),
            };
        }

        /// <summary><c>a == b</c>: numbers, or a string input and a string constant (compared by code).</summary>
        private MethodCallExpression Equality(FeatureExpression node, int depth)
        {
            var (a, b) = (node.Args![0], node.Args[1]);
            var method = node.Op == "eq" ? nameof(FeatureOps.Eq) : nameof(FeatureOps.Ne);
            if (TextInput(a) is not null || TextInput(b) is not null)
            {
                var (input, text) = TextInput(a) is not null ? (a, b) : (b, a);
                return Expression.Call(typeof(FeatureOps).GetMethod(method)!, Input(input), Expression.Constant((double)Code(input, text, depth)));
            }
            if (a.Op == "text" || b.Op == "text")
            {
                throw Invalid($"the string '{(a.Op == "text" ? a.Text : b.Text)}' can only be compared with a string input");
            }
            return Expression.Call(typeof(FeatureOps).GetMethod(method)!, Number(a, depth + 1), Number(b, depth + 1));
        }

        /// <summary><c>x in (c1, c2, ...)</c>: constants of the value's kind.</summary>
        private MethodCallExpression Membership(FeatureExpression node, int depth)
        {
            var value = node.Args![0];
            var options = node.Args.Skip(1).ToList();
            if (TextInput(value) is not null)
            {
                var set = options.Select(o => (double)Code(value, o, depth)).ToArray();
                return Expression.Call(typeof(FeatureOps).GetMethod(nameof(FeatureOps.In))!, Input(value), Expression.Constant(set));
            }
            var numbers = options.Select(o => o.Op == "const" && o.Value is double d ? d
                : throw Invalid($"'in' takes constants of the value's kind; {o} is not a number")).ToArray();
            return Expression.Call(typeof(FeatureOps).GetMethod(nameof(FeatureOps.In))!, Number(value, depth + 1), Expression.Constant(numbers));
        }

        private int Code(FeatureExpression input, FeatureExpression text, int depth)
        {
            Check(text, depth + 1);
            if (text.Op != "text")
            {
                throw Invalid($"string input '{input.Input}' can only be compared with string constants, not {text}");
            }
            var table = codes[InputIndex(input)]!;
            if (!table.TryGetValue(text.Text!, out var code))
            {
                code = table.Count;
                table[text.Text!] = code;
            }
            return code;
        }

        private Dictionary<string, int>? TextInput(FeatureExpression node) =>
            node.Op == "input" ? codes[InputIndex(node)] : null;

        private BinaryExpression Input(FeatureExpression node) => Expression.ArrayIndex(inputs, Expression.Constant(InputIndex(node)));

        private int InputIndex(FeatureExpression node) =>
            node.Input is not null && index.TryGetValue(node.Input, out var i) ? i
                : throw Invalid($"uses input '{node.Input}', which it does not declare");

        private void Check(FeatureExpression node, int depth)
        {
            if (depth > MaxDepth)
            {
                throw Invalid($"a feature expression is nested deeper than {MaxDepth}");
            }
            var count = node.Args?.Count ?? 0;
            if (!FeatureExpression.Operators.TryGetValue(node.Op ?? string.Empty, out var arity) || (arity >= 0 ? count != arity : count < 2))
            {
                throw Invalid($"'{node.Op}' with {count} operands is not a known operator");
            }
            if (node.Op == "text" && node.Text is null)
            {
                throw Invalid("a string constant has no text");
            }
        }

        private InvalidDataException Invalid(string reason) => new($"view '{view.Name}': {reason}");
    }
}

/// <summary>The operators that are not one IL instruction. Null (NaN) propagates through arithmetic and comparisons;
/// <c>and</c>, <c>or</c>, <c>not</c> and <c>if</c> take null as false; comparisons give 1 or 0.</summary>
public static class FeatureOps
{
    private static readonly Dictionary<string, string> Methods = new(StringComparer.Ordinal)
    {
        ["pow"] = nameof(Pow), ["min"] = nameof(Min), ["max"] = nameof(Max), ["abs"] = nameof(Abs), ["sqrt"] = nameof(Sqrt),
        ["log"] = nameof(Log), ["exp"] = nameof(Exp), ["and"] = nameof(And), ["or"] = nameof(Or), ["not"] = nameof(Not),
        ["if"] = nameof(If), ["clamp"] = nameof(Clamp), ["coalesce"] = nameof(Coalesce),
        ["lt"] = nameof(Lt), ["le"] = nameof(Le), ["gt"] = nameof(Gt), ["ge"] = nameof(Ge),
        ["year"] = nameof(Year), ["month"] = nameof(Month), ["day"] = nameof(Day), ["hour"] = nameof(Hour),
        ["minute"] = nameof(Minute), ["day_of_week"] = nameof(DayOfWeek),
    };

    internal static string Method(string op) => Methods[op];

    public static double Pow(double a, double b) => Math.Pow(a, b);

    public static double Min(double a, double b) => Math.Min(a, b);

    public static double Max(double a, double b) => Math.Max(a, b);

    public static double Abs(double a) => Math.Abs(a);

    public static double Sqrt(double a) => Math.Sqrt(a);

    public static double Log(double a) => Math.Log(a);

    public static double Exp(double a) => Math.Exp(a);

    public static double Clamp(double x, double low, double high) => double.IsNaN(x) || double.IsNaN(low) || double.IsNaN(high) || low > high ? double.NaN : Math.Min(Math.Max(x, low), high);

    public static bool Truth(double a) => a != 0 && !double.IsNaN(a);

    public static double And(double a, double b) => Truth(a) && Truth(b) ? 1 : 0;

    public static double Or(double a, double b) => Truth(a) || Truth(b) ? 1 : 0;

    public static double Not(double a) => Truth(a) ? 0 : 1;

    public static double If(double condition, double then, double otherwise) => Truth(condition) ? then : otherwise;

    public static double IsNull(double a) => double.IsNaN(a) ? 1 : 0;

    public static double Coalesce(double a, double otherwise) => double.IsNaN(a) ? otherwise : a;

    public static double Lt(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : a < b ? 1 : 0;

    public static double Le(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : a <= b ? 1 : 0;

    public static double Gt(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : a > b ? 1 : 0;

    public static double Ge(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : a >= b ? 1 : 0;

    public static double Eq(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : a == b ? 1 : 0;

    public static double Ne(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : a != b ? 1 : 0;

    public static double In(double a, double[] set) => double.IsNaN(a) ? double.NaN : Array.IndexOf(set, a) >= 0 ? 1 : 0;

    public static double Year(double seconds) => Part(seconds, t => t.Year);

    public static double Month(double seconds) => Part(seconds, t => t.Month);

    public static double Day(double seconds) => Part(seconds, t => t.Day);

    public static double Hour(double seconds) => Part(seconds, t => t.Hour);

    public static double Minute(double seconds) => Part(seconds, t => t.Minute);

    /// <summary>ISO day of week: Monday 1 ... Sunday 7.</summary>
    public static double DayOfWeek(double seconds) => Part(seconds, t => t.DayOfWeek == System.DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek);

    private static double Part(double seconds, Func<DateTime, int> part) =>
        double.IsFinite(seconds) && seconds is >= -62_135_596_800 and < 253_402_300_800
            ? part(DateTime.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond)))
            : double.NaN;
}
