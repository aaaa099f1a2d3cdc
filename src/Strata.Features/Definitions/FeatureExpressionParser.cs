using System.Globalization;
using System.Text;
using Strata.Contracts;
using Strata.Contracts.Features;

namespace Strata.Features.Definitions;

/// <summary>The feature language: the text of an on-demand feature (<c>income / age</c>,
/// <c>if(country in ('US', 'CA'), amount, amount * 1.1)</c>) parsed into the <see cref="FeatureExpression"/> tree that
/// <see cref="FeatureTransform"/> compiles. It can only say what the tree can: arithmetic (<c>+ - * / **</c>),
/// comparisons (<c>&lt; &lt;= &gt; &gt;= == !=</c>), <c>and or not</c>, <c>cond ? a : b</c>, membership
/// (<c>x in (1, 2)</c>, <c>x not in ('a', 'b')</c>), <c>true false null</c>, and the functions in
/// <see cref="Functions"/>. There are no names other than the view's inputs, no member access, no calls of anything else
/// and no loops: sandboxed by construction, and bounded (<see cref="MaxLength"/>, <see cref="MaxNodes"/>,
/// <see cref="MaxDepth"/>).</summary>
public static class FeatureExpressionParser
{
    public const int MaxLength = 2_000;
    public const int MaxNodes = 400;
    public const int MaxDepth = 32;

    /// <summary>Function name to arity (-1: variadic); each is the tree operator of the same name.</summary>
    public static IReadOnlyDictionary<string, int> Functions { get; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["log"] = 1, ["exp"] = 1, ["sqrt"] = 1, ["abs"] = 1, ["min"] = 2, ["max"] = 2, ["pow"] = 2, ["clamp"] = 3,
        ["if"] = 3, ["is_null"] = 1, ["coalesce"] = 2,
        ["year"] = 1, ["month"] = 1, ["day"] = 1, ["hour"] = 1, ["minute"] = 1, ["day_of_week"] = 1,
    };

    /// <summary>Parses <paramref name="text"/> over inputs of the given types; a text that does not parse, names an
    /// unknown input or function, or mixes strings and numbers is a <see cref="FeatureExpressionException"/>.</summary>
    public static FeatureExpression Parse(string text, IReadOnlyDictionary<string, LogicalType> inputs)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(inputs);
        if (text.Length > MaxLength)
        {
            throw new FeatureExpressionException($"is {text.Length} characters long; the limit is {MaxLength}", 0);
        }
        var parser = new Parser(text, inputs);
        var result = parser.Expression(0);
        parser.Expect(TokenKind.End, "the end of the expression");
        if (result.Kind == Kind.Text)
        {
            throw new FeatureExpressionException("is a string; a feature must be a number", 0);
        }
        return result.Node;
    }

    private enum TokenKind { Number, String, Name, Symbol, End }

    private enum Kind { Number, Text, TextInput }

    private readonly record struct Token(TokenKind Kind, string Text, int Position, double Number = 0);

    private readonly record struct Typed(FeatureExpression Node, Kind Kind);

    private sealed class Parser
    {
        private static readonly string[] Symbols = ["**", "<=", ">=", "==", "!=", "+", "-", "*", "/", "^", "(", ")", ",", "<", ">", "?", ":"];
        private readonly List<Token> _tokens;
        private readonly IReadOnlyDictionary<string, LogicalType> _inputs;
        private int _next;
        private int _nodes;

        public Parser(string text, IReadOnlyDictionary<string, LogicalType> inputs)
        {
            _tokens = Tokenize(text);
            _inputs = inputs;
        }

        private Token Peek => _tokens[_next];

        public Typed Expression(int depth)
        {
            var condition = Or(depth);
            if (!IsSymbol("?"))
            {
                return condition;
            }
            var at = Take().Position;
            var then = Expression(depth + 1);
            Expect(TokenKind.Symbol, "':'", ":");
            var otherwise = Expression(depth + 1);
            return Node("if", at, [Numeric(condition, at), Numeric(then, at), Numeric(otherwise, at)]);
        }

        private Typed Or(int depth)
        {
            var left = And(depth);
            while (IsName("or"))
            {
                var at = Take().Position;
                left = Node("or", at, [Numeric(left, at), Numeric(And(depth + 1), at)]);
            }
            return left;
        }

        private Typed And(int depth)
        {
            var left = Not(depth);
            while (IsName("and"))
            {
                var at = Take().Position;
                left = Node("and", at, [Numeric(left, at), Numeric(Not(depth + 1), at)]);
            }
            return left;
        }

        private Typed Not(int depth)
        {
            if (IsName("not"))
            {
                var at = Take().Position;
                return Node("not", at, [Numeric(Not(Deeper(depth, at)), at)]);
            }
            return Comparison(depth);
        }

        private Typed Comparison(int depth)
        {
            var left = Additive(depth);
            var at = Peek.Position;
            if (IsName("in") || (IsName("not") && _tokens[_next + 1] is { Kind: TokenKind.Name, Text: "in" }))
            {
                var negated = Take().Text == "not";
                if (negated)
                {
                    Take();
                }
                var membership = Membership(left, at, depth);
                return negated ? Node("not", at, [membership.Node]) : membership;
            }
            var op = Peek.Kind == TokenKind.Symbol ? Peek.Text switch
            {
                "<" => "lt", "<=" => "le", ">" => "gt", ">=" => "ge", "==" => "eq", "!=" => "ne", _ => null,
            } : null;
            if (op is null)
            {
                return left;
            }
            Take();
            var right = Additive(depth + 1);
            if (op is "eq" or "ne" && (left.Kind != Kind.Number || right.Kind != Kind.Number))
            {
                if (!(left.Kind == Kind.TextInput && right.Kind == Kind.Text) && !(left.Kind == Kind.Text && right.Kind == Kind.TextInput))
                {
                    throw new FeatureExpressionException("compares a string with something that is not a string input and a string constant", at);
                }
                return Node(op, at, [left.Node, right.Node]);
            }
            return Node(op, at, [Numeric(left, at), Numeric(right, at)]);
        }

        private Typed Membership(Typed value, int at, int depth)
        {
            Expect(TokenKind.Symbol, "'(' after 'in'", "(");
            var args = new List<FeatureExpression> { value.Node };
            do
            {
                var option = Unary(depth + 1);
                var fits = value.Kind == Kind.TextInput ? option.Kind == Kind.Text
                    : value.Kind == Kind.Number && option.Node.Op == "const";
                if (!fits)
                {
                    throw new FeatureExpressionException(value.Kind == Kind.TextInput
                        ? "'in' after a string input takes string constants"
                        : "'in' takes a number and number constants", at);
                }
                args.Add(option.Node);
            }
            while (TakeSymbol(","));
            Expect(TokenKind.Symbol, "')' closing the 'in' list", ")");
            return Node("in", at, args);
        }

        private Typed Additive(int depth)
        {
            var left = Multiplicative(depth);
            while (IsSymbol("+") || IsSymbol("-"))
            {
                var token = Take();
                left = Node(token.Text == "+" ? "add" : "sub", token.Position, [Numeric(left, token.Position), Numeric(Multiplicative(depth + 1), token.Position)]);
            }
            return left;
        }

        private Typed Multiplicative(int depth)
        {
            var left = Unary(depth);
            while (IsSymbol("*") || IsSymbol("/"))
            {
                var token = Take();
                left = Node(token.Text == "*" ? "mul" : "div", token.Position, [Numeric(left, token.Position), Numeric(Unary(depth + 1), token.Position)]);
            }
            return left;
        }

        private Typed Unary(int depth)
        {
            if (IsSymbol("-"))
            {
                var at = Take().Position;
                var operand = Unary(Deeper(depth, at));
                // A negative number is a constant, so '-1' in an 'in' list is one.
                return operand.Node is { Op: "const", Value: double v }
                    ? Node("const", at, value: -v)
                    : Node("neg", at, [Numeric(operand, at)]);
            }
            if (IsSymbol("+"))
            {
                Take();
                return Unary(depth);
            }
            return Power(depth);
        }

        private Typed Power(int depth)
        {
            var left = Primary(depth);
            if (IsSymbol("**") || IsSymbol("^"))
            {
                var at = Take().Position;
                return Node("pow", at, [Numeric(left, at), Numeric(Unary(Deeper(depth, at)), at)]);
            }
            return left;
        }

        private Typed Primary(int depth)
        {
            var token = Take();
            switch (token.Kind)
            {
                case TokenKind.Number:
                    return Node("const", token.Position, value: token.Number);
                case TokenKind.String:
                    Count(token.Position);
                    return new Typed(FeatureExpression.Literal(token.Text), Kind.Text);
                case TokenKind.Symbol when token.Text == "(":
                    var inner = Expression(Deeper(depth, token.Position));
                    Expect(TokenKind.Symbol, "')'", ")");
                    return inner;
                case TokenKind.Name:
                    return Name(token, depth);
                default:
                    throw new FeatureExpressionException(token.Kind == TokenKind.End ? "ends where a value was expected" : $"has '{token.Text}' where a value was expected", token.Position);
            }
        }

        private Typed Name(Token token, int depth)
        {
            switch (token.Text)
            {
                case "true":
                    return Node("const", token.Position, value: 1);
                case "false":
                    return Node("const", token.Position, value: 0);
                case "null":
                    return Node("const", token.Position, value: double.NaN);
                case "and" or "or" or "not" or "in":
                    throw new FeatureExpressionException($"has '{token.Text}' where a value was expected", token.Position);
            }
            if (IsSymbol("("))
            {
                return Call(token, depth);
            }
            if (!_inputs.TryGetValue(token.Text, out var type))
            {
                throw new FeatureExpressionException($"names '{token.Text}', which is not an input of the view (inputs: {string.Join(", ", _inputs.Keys.Order(StringComparer.Ordinal))})", token.Position);
            }
            Count(token.Position);
            return new Typed(FeatureExpression.Of(token.Text), type == LogicalType.String ? Kind.TextInput : Kind.Number);
        }

        private Typed Call(Token name, int depth)
        {
            if (!Functions.TryGetValue(name.Text, out var arity))
            {
                throw new FeatureExpressionException($"calls '{name.Text}', which is not a function of the feature language (functions: {string.Join(", ", Functions.Keys.Order(StringComparer.Ordinal))})", name.Position);
            }
            Take();
            var args = new List<Typed>();
            if (!IsSymbol(")"))
            {
                do
                {
                    args.Add(Expression(Deeper(depth, name.Position)));
                }
                while (TakeSymbol(","));
            }
            Expect(TokenKind.Symbol, $"')' closing {name.Text}(", ")");
            if (args.Count != arity)
            {
                throw new FeatureExpressionException($"calls {name.Text} with {args.Count} arguments; it takes {arity}", name.Position);
            }
            if (name.Text == "is_null" && args[0].Kind == Kind.TextInput)
            {
                return Node("is_null", name.Position, [args[0].Node]);
            }
            return Node(name.Text, name.Position, [.. args.Select(a => Numeric(a, name.Position))]);
        }

        private static FeatureExpression Numeric(Typed value, int at) => value.Kind switch
        {
            Kind.Number => value.Node,
            Kind.TextInput => throw new FeatureExpressionException($"uses string input '{value.Node.Input}' as a number (strings can only be compared: ==, !=, in, is_null)", at),
            _ => throw new FeatureExpressionException($"uses the string {value.Node} as a number", at),
        };

        private Typed Node(string op, int at, IReadOnlyList<FeatureExpression>? args = null, double? value = null)
        {
            Count(at);
            return new Typed(new FeatureExpression(op, Value: value, Args: args), Kind.Number);
        }

        private void Count(int at)
        {
            if (++_nodes > MaxNodes)
            {
                throw new FeatureExpressionException($"has more than {MaxNodes} terms", at);
            }
        }

        private static int Deeper(int depth, int at) =>
            depth + 1 > MaxDepth ? throw new FeatureExpressionException($"is nested deeper than {MaxDepth}", at) : depth + 1;

        private bool IsSymbol(string symbol) => Peek is { Kind: TokenKind.Symbol } t && t.Text == symbol;

        private bool IsName(string name) => Peek is { Kind: TokenKind.Name } t && t.Text == name;

        private bool TakeSymbol(string symbol)
        {
            if (!IsSymbol(symbol))
            {
                return false;
            }
            Take();
            return true;
        }

        private Token Take()
        {
            var token = _tokens[_next];
            if (token.Kind != TokenKind.End)
            {
                _next++;
            }
            return token;
        }

        public void Expect(TokenKind kind, string what, string? text = null)
        {
            var token = Peek;
            if (token.Kind != kind || (text is not null && token.Text != text))
            {
                throw new FeatureExpressionException(token.Kind == TokenKind.End ? $"ends where {what} was expected" : $"has '{token.Text}' where {what} was expected", token.Position);
            }
            Take();
        }

        private static List<Token> Tokenize(string text)
        {
            var tokens = new List<Token>();
            var i = 0;
            while (i < text.Length)
            {
                var c = text[i];
                if (char.IsWhiteSpace(c))
                {
                    i++;
                }
                else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
                {
                    tokens.Add(NumberToken(text, ref i));
                }
                else if (char.IsAsciiLetter(c) || c == '_')
                {
                    var start = i;
                    while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
                    {
                        i++;
                    }
                    tokens.Add(new Token(TokenKind.Name, text[start..i], start));
                }
                else if (c is '\'' or '"')
                {
                    tokens.Add(StringToken(text, ref i));
                }
                else if (Symbols.FirstOrDefault(s => string.CompareOrdinal(text, i, s, 0, s.Length) == 0) is { } symbol)
                {
                    tokens.Add(new Token(TokenKind.Symbol, symbol, i));
                    i += symbol.Length;
                }
                else
                {
                    throw new FeatureExpressionException($"has '{c}', which the feature language does not use" + (c == '.' ? " (there is no member access)" : string.Empty), i);
                }
            }
            tokens.Add(new Token(TokenKind.End, string.Empty, text.Length));
            return tokens;
        }

        private static Token NumberToken(string text, ref int i)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }
            if (i < text.Length && text[i] is 'e' or 'E')
            {
                var exponent = i + 1;
                if (exponent < text.Length && text[exponent] is '+' or '-')
                {
                    exponent++;
                }
                if (exponent < text.Length && char.IsAsciiDigit(text[exponent]))
                {
                    i = exponent;
                    while (i < text.Length && char.IsAsciiDigit(text[i]))
                    {
                        i++;
                    }
                }
            }
            var literal = text[start..i];
            if (!double.TryParse(literal, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                throw new FeatureExpressionException($"has '{literal}', which is not a finite number", start);
            }
            if (i < text.Length && (char.IsAsciiLetter(text[i]) || text[i] == '_'))
            {
                throw new FeatureExpressionException($"has '{literal}{text[i]}', which is not a number", start);
            }
            return new Token(TokenKind.Number, literal, start, value);
        }

        private static Token StringToken(string text, ref int i)
        {
            var quote = text[i];
            var start = i++;
            var value = new StringBuilder();
            while (i < text.Length && text[i] != quote)
            {
                if (text[i] == '\\' && i + 1 < text.Length)
                {
                    i++;
                }
                value.Append(text[i++]);
            }
            if (i >= text.Length)
            {
                throw new FeatureExpressionException("has a string that is not closed", start);
            }
            i++;
            return new Token(TokenKind.String, value.ToString(), start);
        }
    }
}

/// <summary>A feature expression that does not parse; <see cref="Position"/> is the character where it fails.</summary>
public sealed class FeatureExpressionException(string reason, int position)
    : Exception($"{reason} (at character {position + 1})")
{
    public string Reason { get; } = reason;

    public int Position { get; } = position;
}
