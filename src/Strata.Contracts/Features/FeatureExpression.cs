using System.Globalization;

namespace Strata.Contracts.Features;

/// <summary>A feature's formula as data: an expression over a view's inputs. Definitions are written as text in the
/// feature repository's files (<c>income / age</c>, <c>clamp(amount / limit, 0, 1)</c>); they travel as these trees
/// (like Feast ships on-demand views through its registry) and every process compiles the same tree with
/// <see cref="FeatureTransform"/>, so training and serving run one definition.</summary>
/// <param name="Op">One of <see cref="Operators"/>.</param>
/// <param name="Input">For <c>input</c>: the input's name.</param>
/// <param name="Value">For <c>const</c>: the number.</param>
/// <param name="Args">Operands of the other operators.</param>
/// <param name="Text">For <c>text</c>: a string constant (only compared with a string input by <c>eq</c>, <c>ne</c>, <c>in</c>).</param>
public sealed record FeatureExpression(string Op, string? Input = null, double? Value = null, IReadOnlyList<FeatureExpression>? Args = null, string? Text = null)
{
    /// <summary>Operator name to arity; -1 for <c>in</c> (a value, then one or more constants).</summary>
    public static IReadOnlyDictionary<string, int> Operators { get; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["input"] = 0, ["const"] = 0, ["text"] = 0,
        ["add"] = 2, ["sub"] = 2, ["mul"] = 2, ["div"] = 2, ["pow"] = 2, ["min"] = 2, ["max"] = 2,
        ["neg"] = 1, ["abs"] = 1, ["sqrt"] = 1, ["log"] = 1, ["exp"] = 1,
        ["lt"] = 2, ["le"] = 2, ["gt"] = 2, ["ge"] = 2, ["eq"] = 2, ["ne"] = 2,
        ["and"] = 2, ["or"] = 2, ["not"] = 1, ["if"] = 3, ["clamp"] = 3,
        ["is_null"] = 1, ["coalesce"] = 2,
        ["year"] = 1, ["month"] = 1, ["day"] = 1, ["hour"] = 1, ["minute"] = 1, ["day_of_week"] = 1,
        ["in"] = -1,
    };

    /// <summary>Infix operators as they are written, for <see cref="ToString"/>.</summary>
    private static readonly Dictionary<string, string> Infix = new(StringComparer.Ordinal)
    {
        ["add"] = "+", ["sub"] = "-", ["mul"] = "*", ["div"] = "/",
        ["lt"] = "<", ["le"] = "<=", ["gt"] = ">", ["ge"] = ">=", ["eq"] = "==", ["ne"] = "!=", ["and"] = "and", ["or"] = "or",
    };

    public static FeatureExpression Of(string input) => new("input", Input: input);

    public static FeatureExpression Constant(double value) => new("const", Value: value);

    public static FeatureExpression Literal(string text) => new("text", Text: text);

    /// <summary>The expression as the feature language writes it (parses back to an equal tree).</summary>
    public override string ToString() => Op switch
    {
        "input" => Input ?? "?",
        "const" => Value is double v ? (double.IsNaN(v) ? "null" : v.ToString("R", CultureInfo.InvariantCulture)) : "?",
        "text" => "'" + (Text ?? string.Empty).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'",
        "neg" => $"-{Args![0]}",
        "not" => $"not {Args![0]}",
        "in" => $"({Args![0]} in ({string.Join(", ", Args.Skip(1))}))",
        _ when Infix.TryGetValue(Op, out var symbol) => $"({Args![0]} {symbol} {Args[1]})",
        _ => $"{Op}({string.Join(", ", Args ?? [])})",
    };
}
