namespace Strata.Contracts.Features;

/// <summary>A feature's formula as data: an arithmetic expression over a view's inputs. Feature views are written once,
/// in C#, in the Features module; they travel as these trees (like Feast ships on-demand views through its registry) and
/// every process compiles the same tree with <see cref="FeatureTransform"/>, so training and serving run one definition.</summary>
/// <param name="Op">One of <see cref="Operators"/>.</param>
/// <param name="Input">For <c>input</c>: the input's name.</param>
/// <param name="Value">For <c>const</c>: the number.</param>
/// <param name="Args">Operands of the other operators.</param>
public sealed record FeatureExpression(string Op, string? Input = null, double? Value = null, IReadOnlyList<FeatureExpression>? Args = null)
{
    /// <summary>Operator name to arity.</summary>
    public static IReadOnlyDictionary<string, int> Operators { get; } = new Dictionary<string, int>
    {
        ["input"] = 0, ["const"] = 0,
        ["add"] = 2, ["sub"] = 2, ["mul"] = 2, ["div"] = 2, ["pow"] = 2, ["min"] = 2, ["max"] = 2,
        ["neg"] = 1, ["abs"] = 1, ["sqrt"] = 1, ["log"] = 1, ["exp"] = 1,
    };

    public static FeatureExpression Of(string input) => new("input", Input: input);

    public static FeatureExpression Constant(double value) => new("const", Value: value);

    public override string ToString() => Op switch
    {
        "input" => Input ?? "?",
        "const" => Value?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "?",
        "add" => $"({Args![0]} + {Args[1]})",
        "sub" => $"({Args![0]} - {Args[1]})",
        "mul" => $"({Args![0]} * {Args[1]})",
        "div" => $"({Args![0]} / {Args[1]})",
        "neg" => $"-{Args![0]}",
        _ => $"{Op}({string.Join(", ", Args ?? [])})",
    };
}
